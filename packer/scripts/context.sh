#!/bin/bash
# OpenNebula contextualisation through cloud-init (network, host name, SSH_PUBLIC_KEY, USER_DATA/USERDATA: the
# path DIRAC's pilots take), plus B2CT's unit for what cloud-init lacks: START_SCRIPT and READY=YES to OneGate.
set -euo pipefail
install -m 644 /tmp/b2ct/90_b2ct.cfg /etc/cloud/cloud.cfg.d/90_b2ct.cfg
install -m 755 /tmp/b2ct/b2ct-context /usr/local/sbin/b2ct-context
install -m 644 /tmp/b2ct/b2ct-context.service /etc/systemd/system/b2ct-context.service
systemctl enable b2ct-context.service
