"""A small ISO with the AlmaLinux 9 boot.iso layout, made with xorriso and mtools (no root, no mounts).

isolinux (BIOS El Torito), EFI/BOOT/grub.cfg, images/efiboot.img (the UEFI El Torito image, a FAT file with
its own grub.cfg), isohybrid MBR/GPT, and the volume ID that every entry's inst.stage2 names.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

VOLID = "AlmaLinux-9-5-x86_64-dvd"

ISOLINUX_CFG = f"""default vesamenu.c32
timeout 600

menu title AlmaLinux 9.5

label linux
  menu label ^Install AlmaLinux 9.5
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL={VOLID} quiet

label check
  menu label Test this ^media & install AlmaLinux 9.5
  menu default
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL={VOLID} rd.live.check quiet

menu separator # insert an empty line

# utilities submenu
menu begin ^Troubleshooting
  menu title Troubleshooting AlmaLinux 9.5

label basic
  menu indent count 5
  menu label Install using ^basic graphics mode
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL={VOLID} nomodeset quiet

label rescue
  menu indent count 5
  menu label ^Rescue a AlmaLinux system
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL={VOLID} inst.rescue quiet

label local
  menu label Boot from ^local drive
  localboot 0xffff

label returntomain
  menu label Return to ^main menu
  menu exit

menu end
"""

GRUB_CFG = f"""set default="1"

function load_video {{
  insmod all_video
}}

load_video
set gfxpayload=keep
insmod gzio
insmod part_gpt
insmod ext2

set timeout=60
### END /etc/grub.d/00_header ###

search --no-floppy --set=root -l '{VOLID}'

### BEGIN /etc/grub.d/10_linux ###
menuentry 'Install AlmaLinux 9.5' --class fedora --class gnu-linux --class gnu --class os {{
	linuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL={VOLID} quiet
	initrdefi /images/pxeboot/initrd.img
}}
menuentry 'Test this media & install AlmaLinux 9.5' --class fedora --class gnu-linux --class gnu --class os {{
	linuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL={VOLID} rd.live.check quiet
	initrdefi /images/pxeboot/initrd.img
}}
submenu 'Troubleshooting -->' {{
	menuentry 'Install AlmaLinux 9.5 in basic graphics mode' --class fedora --class gnu-linux --class gnu --class os {{
		linuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL={VOLID} nomodeset quiet
		initrdefi /images/pxeboot/initrd.img
	}}
	menuentry 'Rescue a AlmaLinux system' --class fedora --class gnu-linux --class gnu --class os {{
		linuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL={VOLID} inst.rescue quiet
		initrdefi /images/pxeboot/initrd.img
	}}
}}
"""


def run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)


def make_boot_iso(work: Path, volid: str = VOLID, install_img_mb: int = 0) -> Path:
    """install_img_mb: size of images/install.img (a real boot.iso carries about 900 MB there)."""
    tree = work / "tree"
    for d in ("isolinux", "EFI/BOOT", "images/pxeboot"):
        (tree / d).mkdir(parents=True, exist_ok=True)
    run("cp", "/usr/lib/ISOLINUX/isolinux.bin", tree / "isolinux/")
    run("cp", "/usr/lib/syslinux/modules/bios/ldlinux.c32", tree / "isolinux/")
    (tree / "isolinux/isolinux.cfg").write_text(ISOLINUX_CFG.replace(VOLID, volid))
    for name in ("vmlinuz", "initrd.img"):
        (tree / "isolinux" / name).write_bytes(b"fake " + name.encode() + b"\n" * 4096)
        (tree / "images/pxeboot" / name).write_bytes(b"fake " + name.encode() + b"\n" * 4096)
    with (tree / "images/install.img").open("wb") as f:
        for _ in range(install_img_mb):
            f.write(os.urandom(1024 * 1024))
        f.write(b"\0" * 65536)
    (tree / ".treeinfo").write_text("[general]\nname = AlmaLinux-9.5\n")
    (tree / ".discinfo").write_text("1700000000.0\nAlmaLinux 9.5\nx86_64\n")
    grub = GRUB_CFG.replace(VOLID, volid)
    (tree / "EFI/BOOT/grub.cfg").write_text(grub)
    (tree / "EFI/BOOT/BOOTX64.EFI").write_bytes(b"MZ fake shim")
    efiboot = tree / "images/efiboot.img"
    run("mkfs.fat", "-C", "-n", "ANACONDA", efiboot, "4096")
    run("mmd", "-i", efiboot, "::/EFI", "::/EFI/BOOT")
    run("mcopy", "-i", efiboot, tree / "EFI/BOOT/grub.cfg", tree / "EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/")
    iso = work / "boot.iso"
    run(
        "xorrisofs", "-o", iso, "-R", "-J", "-V", volid,
        "-isohybrid-mbr", "/usr/lib/ISOLINUX/isohdpfx.bin",
        "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
        "-boot-load-size", "4", "-boot-info-table", "-no-emul-boot",
        "-eltorito-alt-boot", "-e", "images/efiboot.img", "-no-emul-boot", "-isohybrid-gpt-basdat",
        tree,
    )  # fmt: skip
    return iso
