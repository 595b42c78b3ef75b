"""`b2ct validate` against the emulator: a healthy site passes; each injected fault is named by the right
check with a fix; no smoke VM is ever left behind."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pyone
import pytest

from b2ct import names
from b2ct.cli import main
from b2ct.emulator import objects as O
from b2ct.emulator.backend import Timing
from b2ct.emulator.seed import seed
from b2ct.emulator.server import Emulator
from b2ct.site import load_site
from b2ct.validate.checks import Validation
from tests.integration.conftest import PASSWORD


@pytest.fixture
def site_cloud(
    scratch_root: Path, emulator: Emulator, one: pyone.OneServer, monkeypatch: pytest.MonkeyPatch
) -> pyone.OneServer:
    """The local site as its installation and `make apply` leave it, with credentials in ONE_AUTH."""
    seed(load_site("local"), one)
    auth = scratch_root / "one_auth"
    auth.write_text(f"oneadmin:{PASSWORD}\n")
    monkeypatch.setenv("ONE_AUTH", str(auth))
    monkeypatch.setenv("ONE_XMLRPC", emulator.endpoint)
    one.hostpool.info()  # the first monitoring round
    return one


def report(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["validate", "local", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def vms_left(one: pyone.OneServer) -> list[int]:
    return [vm.ID for vm in one.vmpool.info(-2, -1, -1, -1).VM]  # -1: every state but DONE


def test_a_healthy_site_passes_every_check(
    site_cloud: pyone.OneServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = report(capsys)
    assert code == 0 and doc["ok"], doc
    checks = {c["check"]: c for c in doc["checks"]}
    assert {"endpoint reachable", "version supported", "credentials accepted", "host front", "host node1",
            "image datastore images", "system datastore system", "network private", "network public",
            "image b2ct-local-worker-debian12", "template b2ct-local-worker", "smoke VM running",
            "smoke VM removed"} == set(checks)  # fmt: skip
    assert all(c["ok"] for c in doc["checks"])
    assert checks["host front"]["figure"] == "MONITORED, 8 threads, 32 GB"
    assert checks["network private"]["figure"] == "50 of 50 leases free"
    assert vms_left(site_cloud) == []


def test_the_table_has_a_line_per_check_and_a_verdict(
    site_cloud: pyone.OneServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "local"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split() == ["check", "result", "figure", "how", "to", "fix"]
    assert "smoke VM running" in out and out.rstrip().splitlines()[-1].startswith("all 13 checks passed in ")


def _host_error(emu: Emulator, one: pyone.OneServer) -> None:
    with emu.backend.lock:  # the server thread changes state under this lock too
        host = next(h for h in emu.backend.pools["host"].values() if h.name == "node1")
        host.extra["state"] = O.HOST_ERROR
        emu.backend.touch(host)


def _datastore_full(emu: Emulator, one: pyone.OneServer) -> None:
    with emu.backend.lock:  # the server thread changes state under this lock too
        ds = next(d for d in emu.backend.pools["datastore"].values() if d.name == "images")
        ds.extra["used_mb"] = ds.extra["total_mb"] - 1024  # 1 GB left, the local site wants 5
        emu.backend.touch(ds)


def _image_error(emu: Emulator, one: pyone.OneServer) -> None:
    with emu.backend.lock:  # the server thread changes state under this lock too
        image = next(i for i in emu.backend.pools["image"].values() if i.name == "b2ct-local-worker-debian12")
        image.extra["state"] = O.IMG_ERROR
        emu.backend.touch(image)


def _no_leases(emu: Emulator, one: pyone.OneServer) -> None:
    vnet = next(v for v in one.vnpool.info(-2, -1, -1).VNET if v.NAME == "private")
    for i in range(10, 60):  # the range 10.10.16.10 + 50: every address put on hold
        one.vn.hold(vnet.ID, f'LEASES=[IP="10.10.16.{i}"]')


def _hosts_full(emu: Emulator, one: pyone.OneServer) -> None:
    with emu.backend.lock:  # the server thread changes state under this lock too
        for host in emu.backend.pools["host"].values():
            host.extra["mem_used"] = host.extra["total_mem"]
            emu.backend.touch(host)


@pytest.mark.parametrize(
    "fault, check, figure, fix",
    [
        (_host_error, "host node1", "ERROR", "onehost show node1 says why"),
        (_datastore_full, "image datastore images", "1.0 GB free", "below datastores.min_free_gb (5 GB)"),
        (_image_error, "image b2ct-local-worker-debian12", "ERROR", "delete it and upload again"),
        (_no_leases, "network private", "0 of 50 leases free", "release held ones or add a range"),
        (_hosts_full, "smoke VM running", "still PENDING after 2 s", "no host took it"),
    ],
)
def test_each_fault_is_reported_by_the_right_check_with_a_fix(
    site_cloud: pyone.OneServer,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    fault: Callable[[Emulator, pyone.OneServer], None],
    check: str,
    figure: str,
    fix: str,
) -> None:
    fault(emulator, site_cloud)
    code, doc = report(capsys, "--running-limit", "2")
    failed = [c for c in doc["checks"] if c["ok"] is False]
    assert code == 1 and [c["check"] for c in failed] == [check], failed
    assert figure in failed[0]["figure"] and fix in failed[0]["fix"]
    assert vms_left(site_cloud) == [], "the smoke VM is removed even when a check fails"


def test_an_interrupted_run_still_removes_the_smoke_vm(
    site_cloud: pyone.OneServer, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.backend.timing = Timing(vm_step=30.0)  # the VM is still booting when the admin presses Ctrl-C
    validation = Validation(load_site("local"), site_cloud, emulator.endpoint)

    seen: list[int] = []

    def ctrl_c(*_: object, **__: object) -> None:
        assert validation.smoke_vm is not None
        seen.append(validation.smoke_vm)
        assert site_cloud.vm.info(validation.smoke_vm).LCM_STATE in (O.LCM_PROLOG, O.LCM_BOOT), (
            "still booting"
        )
        raise KeyboardInterrupt

    monkeypatch.setattr(validation, "_wait", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        validation.run()
    vm = site_cloud.vm.info(seen[0])
    assert vm.STATE == O.VM_DONE or vm.LCM_STATE == O.LCM_EPILOG, "terminated (EPILOG, then DONE)"


def test_an_unreachable_endpoint_is_one_failure_and_nothing_else_runs(
    site_cloud: pyone.OneServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONE_XMLRPC", "http://127.0.0.1:9/RPC2")
    code, doc = report(capsys)
    assert code == 1
    assert [(c["check"], c["ok"]) for c in doc["checks"]] == [
        ("endpoint reachable", False),
        ("everything else", None),
    ]
    assert "ONE_XMLRPC" in doc["checks"][0]["fix"]


def test_wrong_credentials_are_named(
    site_cloud: pyone.OneServer, scratch_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (scratch_root / "one_auth").write_text("oneadmin:wrong\n")
    code, doc = report(capsys)
    assert (
        code == 1 and doc["checks"][1]["check"] == "credentials accepted" and doc["checks"][1]["ok"] is False
    )
    assert "wrong" not in json.dumps(doc), "a password never reaches the report"


def test_ready_is_awaited_when_the_image_reports_to_onegate(
    site_cloud: pyone.OneServer, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    template = next(
        t for t in site_cloud.templatepool.info(-2, -1, -1).VMTEMPLATE if t.NAME.endswith("-worker")
    )
    site_cloud.template.update(template.ID, 'CONTEXT=[NETWORK="YES", TOKEN="YES", REPORT_READY="YES"]', 1)
    stop = threading.Event()

    def guest() -> None:  # what the worker image does once booted: PUT READY=YES to OneGate with its token
        while not stop.is_set():
            for vm in site_cloud.vmpool.info(-2, -1, -1, -1).VM:
                token = emulator.backend.onegate_token(vm.ID)
                req = urllib.request.Request(
                    f"http://127.0.0.1:{emulator.onegate_port}/vm", data=b"READY=YES", method="PUT",
                    headers={"X-ONEGATE-TOKEN": token, "X-ONEGATE-VMID": str(vm.ID)},
                )  # fmt: skip
                urllib.request.urlopen(req).read()
                return
            time.sleep(0.05)

    thread = threading.Thread(target=guest)
    thread.start()
    try:
        code, doc = report(capsys)
    finally:
        stop.set()
        thread.join()
    assert code == 0, doc
    assert any(c["check"] == "smoke VM READY (OneGate)" and c["ok"] for c in doc["checks"])


def test_without_credentials_the_error_says_where_they_go(
    scratch_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONE_AUTH", str(scratch_root / "missing"))
    assert main(["validate", "local"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ONE_AUTH={scratch_root / 'missing'}: no such file; put user:password in it (mode 600) and run again"
    )


def test_names_are_shared_with_the_seeded_cloud(site_cloud: pyone.OneServer) -> None:
    site = load_site("local")
    assert names.worker_template(site) in {
        t.NAME for t in site_cloud.templatepool.info(-2, -1, -1).VMTEMPLATE
    }
