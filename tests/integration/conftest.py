"""An in-process emulator on free ports, instant timing, fresh state per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyone
import pytest

from b2ct.emulator.server import Emulator

PASSWORD = "emulator-test-password"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator({"oneadmin": PASSWORD}, port=0, onegate_port=0, state_file=tmp_path / "one.db").start()
    yield emu
    emu.stop()


@pytest.fixture
def one(emulator: Emulator) -> pyone.OneServer:
    return pyone.OneServer(emulator.endpoint, session=f"oneadmin:{PASSWORD}")
