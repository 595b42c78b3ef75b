"""The USB key image: MBR, one FAT32 partition labelled with the site's USB label, the kickstarts under /ks/,
and, when an installer ISO is given, the installer itself (BIOS via syslinux, UEFI via the ISO's EFI/BOOT).

Built in a file without loop devices or mounts (sfdisk, mkfs.fat --offset, mtools, syslinux --offset).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from b2ct.installer import bootcfg, iso
from b2ct.process import MTOOLS_ENV, partitioned_image, run

SECTOR = 512
START = 2048  # first partition at 1 MiB
MIB = 1024 * 1024
SYSLINUX_MODULES = Path("/usr/lib/syslinux/modules/bios")
SYSLINUX_MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")
WHAT = "building the USB image"

README = """B2CT installation key for site {site}.

ks/*.cfg are the kickstarts (AlmaLinux 9) for this site's hosts. Boot the B2CT installer ISO (or this key, if
it holds the installer) and pick the front-end or node entry; the installer finds ks/<role>.cfg by this
key's label, {label}.

SECRET: ks/frontend.cfg holds the site's oneadmin SSH private key. Keep this key locked away, and wipe it
when the installation is done.
"""


def build(
    dest: Path,
    site: str,
    label: str,
    kickstarts: dict[str, Path],
    installer: Path | None = None,
    role: str = "node",
) -> Path:
    """Write dest (an image file to dd onto a key). dest appears only when complete."""
    info = iso.inspect(installer) if installer else None
    size = 64 * MIB + (info.path.stat().st_size if info else 0)
    size = -(-size // MIB) * MIB
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".usb-", dir=dest.parent) as tmp:
        work = Path(tmp)
        img = work / dest.name
        partitioned_image(img, size, START, "c")  # c: FAT32 (LBA)
        blocks = (size - START * SECTOR) // 1024
        run(["mkfs.fat", "-F", "32", "-s", "1", "-n", label, "--offset", str(START), "-h", str(START), img,
             str(blocks)], WHAT)  # fmt: skip
        part = f"{img}@@{START * SECTOR}"
        run(["mmd", "-i", part, "::/ks"], WHAT, env=MTOOLS_ENV)
        for role_name, path in kickstarts.items():
            run(["mcopy", "-i", part, path, f"::/ks/{role_name}.cfg"], WHAT, env=MTOOLS_ENV)
        readme = work / "README.txt"
        readme.write_text(README.format(site=site, label=label))
        run(["mcopy", "-i", part, readme, "::/README.txt"], WHAT, env=MTOOLS_ENV)
        if info:
            _add_installer(info, img, part, work, label, role, [r for r in kickstarts if r != role])
        img.chmod(0o600)  # it holds the front-end kickstart, hence oneadmin's private key
        os.replace(img, dest)
    return dest


def _add_installer(
    info: iso.IsoInfo,
    img: Path,
    part: str,
    work: Path,
    label: str,
    role: str,
    others: list[str],
) -> None:
    """Copy the ISO's tree onto the FAT partition; its menus now name the key's label, not the ISO's."""
    tree = work / "tree"
    print(f"  copying the installer from {info.path.name} onto the key", flush=True)
    run(["osirrox", "-indev", info.path, "-extract", "/", tree], f"reading {info.path}")
    for path in tree.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    if (tree / iso.GRUB).exists():
        cfg = tree / iso.GRUB
        cfg.write_text(bootcfg.grub(cfg.read_text(), label, role, others, relabel_from=info.volid))
    if (tree / iso.ISOLINUX).exists():
        # syslinux reads /syslinux/syslinux.cfg; kernel and initrd sit beside it as they do in isolinux/.
        syslinux = tree / "syslinux"
        (tree / "isolinux").rename(syslinux)
        text = (syslinux / "isolinux.cfg").read_text()
        (syslinux / "isolinux.cfg").unlink()
        (syslinux / "syslinux.cfg").write_text(bootcfg.isolinux(text, label, role, others, info.volid))
        for name in ("isolinux.bin", "boot.cat"):
            (syslinux / name).unlink(missing_ok=True)
        for module in SYSLINUX_MODULES.glob("*.c32"):
            if (syslinux / module.name).exists():
                shutil.copy(module, syslinux / module.name)  # modules must match Debian's ldlinux.sys
    entries = [str(p) for p in sorted(tree.iterdir())]
    run(["mcopy", "-s", "-i", part, *entries, "::/"], WHAT, env=MTOOLS_ENV)
    if (tree / "syslinux").exists():
        run(["syslinux", "--install", "--offset", str(START * SECTOR), "--directory", "/syslinux", img], WHAT)
        with img.open("r+b") as f:
            f.write(SYSLINUX_MBR.read_bytes()[:440])
