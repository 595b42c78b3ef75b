#!/bin/bash
# The monitor agent: powers an unused worker off and tells OneGate why. Defaults are baked in, because a VM
# that DIRAC starts carries only DIRAC's context.
set -euo pipefail
install -d -m 755 /etc/b2ct
install -m 644 /tmp/b2ct/monitor.conf /etc/b2ct/monitor.conf
install -m 755 /tmp/b2ct/b2ct-monitor /usr/local/sbin/b2ct-monitor
install -m 644 /tmp/b2ct/b2ct-monitor.service /etc/systemd/system/b2ct-monitor.service
systemctl enable b2ct-monitor.service
