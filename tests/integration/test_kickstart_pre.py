"""The kickstarts' %pre, run by bash off the installer: fake /sys, fake `ip`, scripted answers."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from b2ct.kickstart import render as ks
from b2ct.render import render_site
from tests.conftest import shipped_site, write_site


@dataclass
class Run:
    returncode: int
    console: str
    install_ks: str
    host_env: dict[str, str]


def fake_machine(root: Path, macs: list[str], disks: dict[str, int], addresses: list[str]) -> Path:
    sys_root = root / "sys"
    for i, mac in enumerate(macs):
        (sys_root / "class/net" / f"eth{i}").mkdir(parents=True)
        (sys_root / "class/net" / f"eth{i}" / "address").write_text(mac.upper() + "\n")
    (sys_root / "class/net/lo").mkdir(parents=True)
    (sys_root / "class/net/lo/address").write_text("00:00:00:00:00:00\n")
    for name, removable in {"loop0": 0, **disks}.items():
        (sys_root / "block" / name).mkdir(parents=True)
        (sys_root / "block" / name / "removable").write_text(f"{removable}\n")
        (sys_root / "block" / name / "size").write_text(f"{500 * 10**9 // 512}\n")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    lines = "".join(f"echo '2: eth0    inet {a}/24 brd x scope global eth0'\n" for a in addresses)
    (bin_dir / "ip").write_text(f"#!/bin/sh\n{lines}")
    (bin_dir / "ip").chmod(0o755)
    return root


def run_pre(env: str, role: str, machine: Path, answers: str) -> Run:
    cfg = (render_site(env) / "kickstart" / f"{role}.cfg").read_text()
    pre = ks.validate(cfg, role)[0]
    out = machine / "out"
    out.mkdir(exist_ok=True)
    proc = subprocess.run(
        ["bash", "-c", pre],
        input=answers, capture_output=True, text=True, timeout=30, check=False,
        env={"PATH": f"{machine / 'bin'}:/usr/bin:/bin", "B2CT_TTY": "-", "B2CT_SYS": str(machine / "sys"),
             "B2CT_OUT": str(out)},
    )  # fmt: skip
    install = out / "b2ct-install.ks"
    host_env = out / "b2ct-host.env"
    values = (
        dict(line.split("=", 1) for line in host_env.read_text().splitlines()) if host_env.exists() else {}
    )
    return Run(
        proc.returncode, proc.stdout + proc.stderr, install.read_text() if install.exists() else "", values
    )


def test_a_fully_described_host_is_recognised_by_mac_and_asked_nothing(
    scratch_root: Path, tmp_path: Path
) -> None:
    machine = fake_machine(tmp_path, ["14:18:77:3a:11:01", "14:18:77:3a:11:02"], {"sda": 0, "sdb": 1}, [])
    run = run_pre("turin", "node", machine, answers="")  # a question would hit end of input and fail
    assert run.returncode == 0, run.console
    assert "[" not in run.console, f"no prompt expected: {run.console}"
    assert run.host_env["B2CT_HOST"] == "b2node1" and run.host_env["B2CT_ADDRESS"] == "10.1.0.11"
    assert (
        "network --bootproto=static --device=eno1 --ip=10.1.0.11 --netmask=255.255.255.0 --gateway=10.1.0.1 "
        "--nameserver=10.1.0.1 --hostname=b2node1 --activate --onboot=yes"
    ) in run.install_ks
    assert (
        "ignoredisk --only-use=sda" in run.install_ks
        and "clearpart --all --initlabel --drives=sda" in run.install_ks
    )


def test_blank_answer_takes_the_default_disk(scratch_root: Path, tmp_path: Path) -> None:
    machine = fake_machine(tmp_path, ["52:54:00:00:00:01"], {"sdz": 1, "vda": 0, "vdb": 0}, [])
    run = run_pre("local", "node", machine, answers="\n")
    assert run.returncode == 0, run.console
    assert run.console.count("Disk to erase and install on [vda]:") == 1, (
        "a removable disk is never the default"
    )
    assert run.host_env["B2CT_DISK"] == "vda" and "--drives=vda" in run.install_ks


def test_invalid_answers_are_asked_again(scratch_root: Path, tmp_path: Path) -> None:
    data = shipped_site("local")
    node = data["hosts"][1]
    node.update(name="ask", address="ask", install_disk="ask")
    data["hosts"].append({**node, "interfaces": [{"name": "eth0", "network": "service"}]})
    write_site(scratch_root, "local", data)
    machine = fake_machine(tmp_path, ["52:54:00:00:00:09"], {"vda": 0, "vdb": 0}, ["10.10.0.77"])
    answers = "\n".join(["7", "2", "Bad_Name", "", "10.99.0.1", "", "sdq", "vdb"]) + "\n"
    run = run_pre("local", "node", machine, answers)
    assert run.returncode == 0, run.console
    assert "Which host is this machine?" in run.console
    assert "'7' is not valid: a number from 1 to 2" in run.console
    assert "'Bad_Name' is not valid" in run.console
    assert "Host name [local-node2]:" in run.console
    assert "'10.99.0.1' is not valid: an IPv4 address inside 10.10.0.0/24" in run.console
    assert "[10.10.0.77]:" in run.console, "the address the machine already has is the default"
    assert "'sdq' is not valid" in run.console
    assert run.host_env == {
        "B2CT_HOST_INDEX": "1", "B2CT_HOST": "local-node2", "B2CT_ADDRESS": "10.10.0.77", "B2CT_PREFIX": "24",
        "B2CT_GATEWAY": "10.10.0.1", "B2CT_DNS": "10.10.0.1", "B2CT_DISK": "vdb",
    }  # fmt: skip
    assert "--ip=10.10.0.77" in run.install_ks and "--hostname=local-node2" in run.install_ks


def test_a_closed_console_stops_the_install_instead_of_looping(scratch_root: Path, tmp_path: Path) -> None:
    machine = fake_machine(tmp_path, ["52:54:00:00:00:01"], {"vda": 0}, [])
    run = run_pre("local", "node", machine, answers="sdq\n")
    assert run.returncode == 1
    assert "no answer for 'Disk to erase and install on'" in run.console
    assert run.install_ks == "", "nothing written for the installer to include"
