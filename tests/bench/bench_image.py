"""Benchmark: the debian12 worker image. Build time from nothing (empty cache) and after a provisioning change
(base file system from the cache), compressed image size, boot to READY under TCG.
Goals: image <= 300 MB, build <= 6 min from nothing, READY <= 30 s."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from b2ct import secrets
from b2ct.image.build import build_image
from tests.support.worker_vm import boot

CHECKOUT = Path(__file__).resolve().parents[2]


def timed_build() -> tuple[Path, float]:
    start = time.monotonic()
    image = build_image("local")
    return image, time.monotonic() - start


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="b2ct-bench-image-") as tmp:
        work = Path(tmp)
        shutil.copytree(CHECKOUT / "environments", work / "root" / "environments")
        os.environ["B2CT_ROOT"] = str(work / "root")
        os.environ["B2CT_CACHE"] = str(work / "cache")  # from nothing: no cached base file system
        secrets.init("local")
        _, cold = timed_build()
        # What a provisioning change costs: everything but the base file system, which stays cached.
        image, warm = timed_build()
        size = image.stat().st_size
        with boot(image, work, "#!/bin/bash\ntrue\n") as worker:
            ready = worker.wait_ready()
        print()
        print(f"build from nothing                {cold:6.0f} s   (goal <= 360 s)")
        print(f"build after a provisioning change {warm:6.0f} s   (base from the cache)")
        print(f"compressed QCOW2                  {size / 2**20:6.0f} MiB (goal <= 300 MB)")
        print(f"boot to READY under TCG           {ready or float('nan'):6.1f} s   (goal <= 30 s)")


if __name__ == "__main__":
    run()
