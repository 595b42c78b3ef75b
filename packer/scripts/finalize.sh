#!/bin/bash
# Leave nothing of the build behind and make the image small: build access and network, caches, logs,
# identities regenerated at first boot; free space zeroed so that the compressed QCOW2 shrinks.
set -euo pipefail
if command -v dpkg-query >/dev/null; then
  dpkg-query -W -f='${Package} ${Version}\n' >/tmp/b2ct-packages.txt
  apt-get clean
  rm -rf /var/lib/apt/lists/*
else
  rpm -qa --qf '%{NAME} %{VERSION}-%{RELEASE}\n' | sort >/tmp/b2ct-packages.txt
  dnf clean all
fi
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /var/cache/debconf/*-old
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name locale.alias -exec rm -rf {} +
rm -f /etc/network/interfaces.d/b2ct-build /etc/cloud/cloud-init.disabled
rm -f /root/.ssh/authorized_keys /etc/ssh/ssh_host_*
cloud-init clean --logs --seed
truncate -s 0 /etc/machine-id
rm -rf /tmp/b2ct /var/log/*.log /var/log/journal/*
dd if=/dev/zero of=/zero bs=1M status=none 2>/dev/null || true  # stops when the disk is full
rm -f /zero
sync
