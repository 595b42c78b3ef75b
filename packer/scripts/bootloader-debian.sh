#!/bin/bash
# debian12 starts from a file system without boot loader (made without loop devices): install GRUB on the disk
# so that the image boots by itself.
set -euo pipefail
cat >/etc/default/grub <<'GRUB'
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200 net.ifnames=0"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --speed=115200"
GRUB
grub-install --target=i386-pc /dev/vda
update-grub
