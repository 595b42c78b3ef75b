"""Benchmark: how long a full `b2ct validate` of the local site takes against the emulator.

Instant timing measures B2CT's own cost (pyone calls, checks, smoke VM round trip); realistic timing adds what
oned's state machines take (2 s per VM step), as a site would see it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pyone

from b2ct.emulator.backend import Timing
from b2ct.emulator.seed import seed
from b2ct.emulator.server import Emulator
from b2ct.site import load_site
from b2ct.validate.checks import Options, Validation

PASSWORD = "bench"


def one_run(timing: Timing, label: str) -> None:
    site = load_site("local")
    with tempfile.TemporaryDirectory() as tmp:
        emu = Emulator(
            {"oneadmin": PASSWORD}, port=0, onegate_port=0, timing=timing, state_file=Path(tmp) / "db"
        )
        emu.start()
        try:
            one = pyone.OneServer(emu.endpoint, session=f"oneadmin:{PASSWORD}")
            seed(site, one)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # hosts monitored, image copied
                if all(r.ok for r in Validation(site, one, emu.endpoint, Options(smoke=False)).run()):
                    break
                time.sleep(0.2)
            start = time.monotonic()
            results = Validation(site, one, emu.endpoint, Options(poll_s=0.1)).run()
            took = time.monotonic() - start
        finally:
            emu.stop()
    smoke = next(r.figure for r in results if r.check == "smoke VM running")
    verdict = "all passed" if all(r.ok for r in results) else "FAILURES"
    print(f"{label:<28} {took:6.2f} s for {len(results)} checks ({verdict}); smoke VM running after {smoke}")


if __name__ == "__main__":
    one_run(Timing(), "validate, instant emulator")
    one_run(Timing.realistic(), "validate, realistic emulator")
