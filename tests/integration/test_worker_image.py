"""End to end: `make image ENV=local` bakes the debian12 worker; it boots under QEMU (TCG) with a context CD
made from the emulator's VM record, as OpenNebula would attach it, and does what a worker must."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from b2ct import paths
from b2ct.image.build import build_image
from tests.conftest import CHECKOUT
from tests.support.worker_vm import boot

USER_DATA = """#!/bin/bash
echo "user data ran" > /root/user-data-ran
# a pilot that works for 10 s, then leaves the worker idle
nohup bash -c 'exec -a dirac-pilot sleep 10' >/dev/null 2>&1 &
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory, site_secrets: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("image-root")
    shutil.copytree(CHECKOUT / "environments", root / "environments")
    shutil.copytree(site_secrets, root / "secrets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("B2CT_ROOT", str(root))
        yield build_image("local")


def test_the_image_is_small_and_described_by_its_manifest(image: Path) -> None:
    manifest = json.loads(image.with_suffix(".manifest.json").read_text())
    assert manifest["profile"] == "debian12" and manifest["size_bytes"] == image.stat().st_size
    assert manifest["size_bytes"] <= 300 * 2**20, "goal: at most 300 MB"
    assert {"cloud-init", "openssh-server", "autofs", "linux-image-cloud-amd64"} <= set(manifest["packages"])
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(image)], capture_output=True,
                                     text=True, check=True).stdout)  # fmt: skip
    assert info["format"] == "qcow2"


def test_a_worker_boots_reports_ready_runs_its_pilot_and_powers_off_when_idle(
    image: Path, tmp_path: Path
) -> None:
    start_script = base64.b64encode(b"echo started > /run/start-script-ran").decode()
    extra = f', START_SCRIPT_BASE64="{start_script}", B2CT_IDLE_GRACE="15", B2CT_POLL="3"'
    with boot(image, tmp_path, USER_DATA, extra) as worker:
        ready_after = worker.wait_ready()
        assert ready_after is not None, f"no READY=YES; console:\n{worker.console.read_text()[-3000:]}"
        print(f"\nboot to READY under TCG: {ready_after:.1f} s")

        for _ in range(60):  # cloud-init's final stage (USER_DATA) runs after READY
            try:
                if "user data ran" in worker.ssh("cat /root/user-data-ran 2>/dev/null || true"):
                    break
            except subprocess.CalledProcessError:
                pass  # sshd not up yet
            time.sleep(2)
        assert worker.ssh("cat /root/user-data-ran") == "user data ran\n", (
            "USER_DATA ran, and ssh with the key"
        )
        assert worker.ssh("cat /run/start-script-ran") == "started\n"
        default_local = worker.ssh("cat /etc/cvmfs/default.local")
        assert default_local == (paths.build("local") / "cvmfs/default.local").read_text()
        assert 'CVMFS_HTTP_PROXY="http://10.10.0.10:3128"' in default_local

        assert worker.qemu.wait(timeout=180) == 0, "the monitor agent powered the idle worker off"
        message = worker.user_template().get("B2CT_SHUTDOWN_MESSAGE", "")
        assert message.startswith("300 Nothing to do: no pilot has run for 15 s"), message
