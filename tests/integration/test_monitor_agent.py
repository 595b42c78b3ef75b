"""The worker's monitor agent (packer/files/b2ct-monitor), run off a VM: its decisions, and the reason it
sends to the emulator's OneGate before powering off (systemctl is a stand-in that records the call)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pyone
import pytest

from b2ct.emulator.server import Emulator
from b2ct.render import render_site
from tests.conftest import CHECKOUT

AGENT = CHECKOUT / "packer" / "files" / "b2ct-monitor"


def start_agent(
    emulator: Emulator, one: pyone.OneServer, tmp: Path, **context: str
) -> tuple[subprocess.Popen[str], int]:
    vm_id = one.vm.allocate('NAME="w"\nCPU="1"\nMEMORY="64"\nCONTEXT=[TOKEN="YES"]', False)
    state = tmp / "state"
    state.mkdir()
    (state / "token").write_text(emulator.backend.onegate_token(vm_id))
    env_lines = [f"ONEGATE_ENDPOINT=http://127.0.0.1:{emulator.onegate_port}", f"VMID={vm_id}"]
    env_lines += [f"{k}={v}" for k, v in context.items()]
    (state / "context.env").write_text("\n".join(env_lines) + "\n")
    shims = tmp / "bin"
    shims.mkdir()
    (shims / "systemctl").write_text(f'#!/bin/sh\necho "$@" > {tmp}/systemctl-called\n')
    (shims / "systemctl").chmod(0o755)
    conf = render_site("local") / "packer" / "debian12" / "files" / "monitor.conf"  # the shipped defaults
    agent = subprocess.Popen(
        ["bash", str(AGENT)], text=True, stderr=subprocess.PIPE,
        env={"PATH": f"{shims}:/usr/bin:/bin", "B2CT_MONITOR_CONF": str(conf), "B2CT_STATE": str(state)},
    )  # fmt: skip
    return agent, vm_id


def test_no_pilot_within_the_boot_grace_powers_off_with_500(
    scratch_root: Path, emulator: Emulator, one: pyone.OneServer, tmp_path: Path
) -> None:
    agent, vm_id = start_agent(emulator, one, tmp_path, B2CT_BOOT_GRACE="0", B2CT_POLL="1")
    assert agent.wait(timeout=30) == 0
    assert (tmp_path / "systemctl-called").read_text() == "poweroff\n"
    message = one.vm.info(vm_id).USER_TEMPLATE["B2CT_SHUTDOWN_MESSAGE"]
    assert message == "500 No pilot started within 0 s of boot"


def test_a_finished_pilot_then_idle_powers_off_with_300(
    scratch_root: Path, emulator: Emulator, one: pyone.OneServer, tmp_path: Path
) -> None:
    pilot = subprocess.Popen(["bash", "-c", "exec -a dirac-pilot sleep 3"])
    agent, vm_id = start_agent(
        emulator, one, tmp_path, B2CT_BOOT_GRACE="1000000000", B2CT_IDLE_GRACE="2", B2CT_POLL="1"
    )
    started = time.monotonic()
    try:
        assert agent.wait(timeout=30) == 0
    finally:
        pilot.kill()
    assert time.monotonic() - started >= 3, "not while the pilot runs"
    message = one.vm.info(vm_id).USER_TEMPLATE["B2CT_SHUTDOWN_MESSAGE"]
    assert message == "300 Nothing to do: no pilot has run for 2 s"


def test_a_running_pilot_keeps_the_worker_up(
    scratch_root: Path, emulator: Emulator, one: pyone.OneServer, tmp_path: Path
) -> None:
    pilot = subprocess.Popen(["bash", "-c", "exec -a JobAgent sleep 30"])
    agent, _ = start_agent(emulator, one, tmp_path, B2CT_BOOT_GRACE="0", B2CT_IDLE_GRACE="1", B2CT_POLL="1")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            agent.wait(timeout=4)
        assert not (tmp_path / "systemctl-called").exists()
    finally:
        agent.kill()
        pilot.kill()
