"""Remaster a standard AlmaLinux 9 boot ISO so that every boot entry loads B2CT's kickstart.

Without root and without mounting: xorriso reads the boot menus out, mtools patches the grub.cfg inside
images/efiboot.img (what UEFI firmware reads from a dd'd key), and xorriso writes the new ISO replaying the
original boot set-up (El Torito BIOS + EFI, hybrid MBR/GPT). The volume ID, which inst.stage2 names, is kept.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from b2ct.errors import UserError
from b2ct.installer import bootcfg
from b2ct.process import MTOOLS_ENV, run

ISOLINUX = "isolinux/isolinux.cfg"
GRUB = "EFI/BOOT/grub.cfg"
EFIBOOT = "images/efiboot.img"


@dataclass(frozen=True)
class IsoInfo:
    path: Path
    volid: str
    files: frozenset[str]


def inspect(iso: Path, name: str = "ISO") -> IsoInfo:
    """Volume ID and file list of an ISO; a clear error when it is missing or no AlmaLinux boot ISO."""
    if not iso.is_file():
        raise UserError(f"{name}={iso}: no such file (give the AlmaLinux 9 boot ISO)")
    proc = subprocess.run(
        ["xorriso", "-indev", str(iso), "-pvd_info", "-find", "/", "-type", "f"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
    )  # fmt: skip
    volid = re.search(r"^Volume Id\s*:\s*(\S.*)$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or not volid or "No ISO 9660 image" in proc.stdout:
        raise UserError(f"{name}={iso}: not an ISO 9660 image that xorriso can read")
    files = frozenset(m.group(1).lstrip("/") for m in re.finditer(r"^'(.*)'$", proc.stdout, re.MULTILINE))
    if ISOLINUX not in files and GRUB not in files:
        raise UserError(f"{name}={iso}: no {ISOLINUX} or {GRUB}: not an AlmaLinux 9 installer ISO")
    return IsoInfo(iso, volid.group(1).strip(), files)


def extract(info: IsoInfo, names: list[str], dest: Path) -> None:
    cmd = ["osirrox", "-indev", str(info.path), "-chmod_r", "u+rw", "/", "--"]
    for name in names:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        cmd += ["-extract", f"/{name}", str(dest / name)]
    cmd += ["-rollback_end"]  # the chmod only makes the copies writable: never write the source back
    run(cmd, f"reading {info.path.name}")
    for name in names:
        (dest / name).chmod(0o644)


def patch_menus(work: Path, info: IsoInfo, label: str, role: str, others: list[str]) -> list[str]:
    """Patch the menus extracted into work/; returns the ISO paths that changed."""
    changed = []
    if ISOLINUX in info.files:
        cfg = work / ISOLINUX
        cfg.write_text(bootcfg.isolinux(cfg.read_text(), label, role, others))
        changed.append(ISOLINUX)
    if GRUB in info.files:
        cfg = work / GRUB
        cfg.write_text(bootcfg.grub(cfg.read_text(), label, role, others))
        changed.append(GRUB)
    if EFIBOOT in info.files:
        img = work / EFIBOOT
        inner = work / "efiboot-grub.cfg"
        got = subprocess.run(
            ["mcopy", "-n", "-i", str(img), "::/EFI/BOOT/grub.cfg", str(inner)],
            capture_output=True, env={**os.environ, **MTOOLS_ENV}, check=False,
        )  # fmt: skip
        if got.returncode == 0:  # an efiboot.img without its own grub.cfg is left as it is
            inner.write_text(bootcfg.grub(inner.read_text(), label, role, others))
            run(
                ["mcopy", "-o", "-i", img, inner, "::/EFI/BOOT/grub.cfg"],
                f"patching {EFIBOOT}",
                env=MTOOLS_ENV,
            )
            changed.append(EFIBOOT)
    return changed


def remaster(
    source: Path,
    dest: Path,
    kickstarts: dict[str, Path],
    role: str,
    usb_label: str,
    embed: bool = False,
) -> IsoInfo:
    """Write dest from source with every boot entry pointing at ks/<role>.cfg (others get an entry each).

    embed: the kickstarts go into the ISO (/ks/) and the entries name the ISO itself; else they name the USB
    key's label. dest appears only when complete.
    """
    info = inspect(source)
    if role not in kickstarts:
        raise UserError(f"ROLE={role}: this site has no {role} to install (has: {', '.join(kickstarts)})")
    others = [r for r in kickstarts if r != role]
    label = info.volid if embed else usb_label
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".remaster-", dir=dest.parent) as tmp:
        work = Path(tmp)
        extract(info, [n for n in (ISOLINUX, GRUB, EFIBOOT) if n in info.files], work)
        changed = patch_menus(work, info, label, role, others)
        partial = work / dest.name
        cmd = ["xorriso", "-indev", str(source), "-outdev", str(partial), "-boot_image", "any", "replay"]
        for name in changed:
            cmd += ["-update", str(work / name), f"/{name}"]
        if embed:
            for r, path in kickstarts.items():
                cmd += ["-map", str(path), f"/ks/{r}.cfg"]
        print(f"  writing {dest.name} (xorriso, boot set-up replayed from {source.name})", flush=True)
        run(cmd, f"writing {dest}")
        if shutil.which("implantisomd5"):
            run(["implantisomd5", "--force", str(partial)], "implanting the media check sum")
        partial.chmod(0o600 if embed else 0o644)  # an embedded front-end kickstart holds a secret
        os.replace(partial, dest)
    return inspect(dest, "output")
