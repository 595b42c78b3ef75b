"""Write the USB image onto a key, refusing any device that could be the wrong one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from b2ct.errors import UserError

CHUNK = 4 * 1024 * 1024


def _disk_of(dev: str, sys_root: Path) -> str:
    """sda for sda1, nvme0n1 for nvme0n1p2: the whole disk a block device belongs to."""
    node = sys_root / "class" / "block" / dev
    if (node / "partition").exists():
        return node.resolve().parent.name
    return dev


def refusal(
    device: str, sys_root: Path = Path("/sys"), mounts: Path = Path("/proc/self/mounts")
) -> str | None:
    """Why device must not be written, or None. sys_root and mounts are parameters so tests can fake them."""
    name = Path(device).name
    block = sys_root / "class" / "block" / name
    if not block.exists():
        return f"{device} is not a block device"
    if (block / "partition").exists():
        return f"{device} is a partition: give the whole key (e.g. /dev/{_disk_of(name, sys_root)})"
    if (block / "removable").read_text().strip() != "1":
        return f"{device} is not a removable device (USB keys are): refusing to overwrite a fixed disk"
    for line in mounts.read_text().splitlines():
        source, target = line.split()[:2]
        if not source.startswith("/dev/"):
            continue
        disk = _disk_of(Path(os.path.realpath(source)).name, sys_root)
        if disk == name:
            if target == "/":
                return f"{device} holds the running system (/ is {source})"
            return f"{device} is mounted ({source} on {target}): unmount it first"
    return None


def write(image: Path, device: str, assume_yes: bool = False, sys_root: Path = Path("/sys")) -> None:
    why = refusal(device, sys_root)
    if why:
        raise UserError(f"DEVICE={device}: {why}")
    size = image.stat().st_size
    if not assume_yes:
        print(f"This erases everything on {device} and writes {image.name} ({size // 2**20} MiB).")
        answer = input(f"Type the device name ({Path(device).name}) to go on: ")
        if answer.strip() != Path(device).name:
            raise UserError(f"DEVICE={device}: not confirmed, nothing written")
    done = 0
    with image.open("rb") as src, open(device, "r+b", buffering=0) as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
            done += len(chunk)
            print(f"\r  {done * 100 // size:3d}% of {size // 2**20} MiB", end="", file=sys.stderr, flush=True)
        os.fsync(dst.fileno())
    print(f"\nwrote {image.name} to {device}; it is safe to remove the key", file=sys.stderr)
