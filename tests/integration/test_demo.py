"""`make demo`'s script, end to end on the local site: the README's first command must work as documented."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import CHECKOUT


def test_demo_validates_the_emulated_site_and_prints_the_dirac_section(scratch_root: Path) -> None:
    proc = subprocess.run(
        ["bash", str(CHECKOUT / "scripts" / "demo.sh")],
        env={**os.environ, "B2CT_ROOT": str(scratch_root)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "all 13 checks passed" in proc.stdout
    assert "CEType = Cloud" in proc.stdout
    assert (scratch_root / "build" / "local" / "dirac" / "cloudce.cfg").exists()
    assert "emulator stopped" in proc.stderr, "the emulator is stopped at the end"
