"""Benchmark: time and size of `make iso` and `make usb` (with and without the installer) for turin.

The input is an ISO with the AlmaLinux 9 boot.iso layout and a boot.iso-sized images/install.img (900 MB of
random data), built here because the real one cannot be downloaded on the development machines.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from b2ct import secrets
from b2ct.cli import main
from tests.support.fake_boot_iso import make_boot_iso

INSTALL_IMG_MB = 900


def timed(argv: list[str]) -> float:
    start = time.monotonic()
    if main(argv) != 0:
        raise SystemExit(f"b2ct {' '.join(argv)} failed")
    return time.monotonic() - start


def mib(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size / 2**20:.0f} MiB ({st.st_blocks * 512 / 2**20:.0f} MiB on disk)"


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="b2ct-bench-installer-") as tmp:
        work = Path(tmp)
        root = work / "root"
        (root / "environments").mkdir(parents=True)
        os.symlink(
            Path(__file__).resolve().parents[2] / "environments" / "turin", root / "environments" / "turin"
        )
        os.environ["B2CT_ROOT"] = str(root)
        secrets.init("turin")
        start = time.monotonic()
        source = make_boot_iso(work / "alma", install_img_mb=INSTALL_IMG_MB)
        print(f"input boot ISO: {mib(source)} (made in {time.monotonic() - start:.1f} s)")
        dist = root / "dist" / "turin"
        runs = [
            ("make iso", ["iso", "turin", "--iso", str(source)], dist / "b2ct-turin-installer.iso"),
            ("make usb (kickstarts only)", ["usb", "turin"], dist / "b2ct-turin-usb.img"),
            (
                "make usb ISO=... (installer)",
                ["usb", "turin", "--iso", str(source)],
                dist / "b2ct-turin-usb.img",
            ),
        ]
        figures = [(name, timed(argv), mib(path), path.name) for name, argv, path in runs]
        print()
        for name, seconds, size, file in figures:
            print(f"{name:<30} {seconds:6.1f} s   {size:>28}   {file}")


if __name__ == "__main__":
    run()
