"""Run the command-line tools B2CT drives. A tool that fails, or is missing, becomes one UserError that says
what was being done and ends with the tool's own last words."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from b2ct.errors import UserError

# mtools on image files: without this it questions the geometry of a FAT inside a partitioned file.
MTOOLS_ENV = {"MTOOLS_SKIP_CHECK": "1"}


def run(
    cmd: Sequence[str | Path], what: str, *, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    args = [str(c) for c in cmd]
    try:
        proc = subprocess.run(
            args, input=input, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
        )
    except FileNotFoundError:
        raise UserError(f"{what}: {args[0]} is not installed; run `make setup`") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr + proc.stdout).strip().splitlines()[-20:])
        raise UserError(f"{what}: {args[0]} failed: {tail}")
    return proc


def partitioned_image(path: Path, size: int, start_sector: int, type_code: str) -> None:
    """A sparse image file of size bytes: an MBR, one bootable partition from start_sector to the end."""
    with path.open("wb") as f:
        f.truncate(size)
    table = f"label: dos\nunit: sectors\n\nstart={start_sector}, type={type_code}, bootable\n"
    run(["sfdisk", "-q", path], f"partitioning {path.name}", input=table)
