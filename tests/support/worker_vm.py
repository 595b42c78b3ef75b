"""Boot a worker image as OpenNebula would: a VM record in the emulator, its context CD, QEMU (TCG) on the
user network with the VM's MAC, OneGate reachable from the guest at 10.0.2.2."""

from __future__ import annotations

import base64
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyone

from b2ct.emulator.context import context_cd
from b2ct.emulator.server import Emulator

PASSWORD = "worker-vm-test"
SLIRP_VNET = """NAME="slirp"
VN_MAD="bridge"
BRIDGE="br0"
NETWORK_ADDRESS="10.0.2.0"
NETWORK_MASK="255.255.255.0"
GATEWAY="10.0.2.2"
DNS="10.0.2.3"
AR=[TYPE="IP4", IP="10.0.2.15", SIZE="1"]"""  # QEMU's user network, so the guest's context matches it


@dataclass
class Worker:
    one: pyone.OneServer
    vm_id: int
    qemu: subprocess.Popen[bytes]
    ssh_port: int
    key: Path
    console: Path
    started: float

    def user_template(self) -> dict[str, str]:
        return dict(self.one.vm.info(self.vm_id).USER_TEMPLATE)

    def wait_ready(self, limit: float = 240) -> float | None:
        while time.monotonic() - self.started < limit and self.qemu.poll() is None:
            if self.user_template().get("READY") == "YES":
                return time.monotonic() - self.started
            time.sleep(0.5)
        return None

    def ssh(self, command: str) -> str:
        return subprocess.run(
            ["ssh", "-i", str(self.key), "-p", str(self.ssh_port), "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes",
             "-o", "LogLevel=ERROR", "root@127.0.0.1", command],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def boot(image: Path, work: Path, user_data: str, context_extra: str = "") -> Iterator[Worker]:
    emu = Emulator({"oneadmin": PASSWORD}, port=0, onegate_port=0, onegate_host="10.0.2.2",
                   state_file=work / "one.db").start()  # fmt: skip
    qemu = None
    try:
        one = pyone.OneServer(emu.endpoint, session=f"oneadmin:{PASSWORD}")
        one.vn.allocate(SLIRP_VNET, -1)
        key = work / "admin_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        userdata = base64.b64encode(user_data.encode()).decode()
        pubkey = key.with_suffix(".pub").read_text().strip()
        vm_id = one.vm.allocate(
            'NAME="worker"\nCPU="1"\nMEMORY="1024"\nNIC=[NETWORK="slirp"]\n'
            f'CONTEXT=[NETWORK="YES", TOKEN="YES", SSH_PUBLIC_KEY="{pubkey}",'
            f' USER_DATA="{userdata}", USERDATA_ENCODING="base64"{context_extra}]',
            False,
        )
        mac = one.vm.info(vm_id).TEMPLATE["NIC"]["MAC"]
        cd = context_cd(emu.backend, vm_id, work / "context.iso")
        disk = work / "disk.qcow2"
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image), str(disk)],
            check=True,
        )
        port = _free_port()
        console = work / "console.log"
        started = time.monotonic()
        qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "2",
             "-display", "none", "-drive", f"file={disk},if=virtio", "-cdrom", str(cd),
             "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
             "-device", f"virtio-net-pci,netdev=n0,mac={mac}", "-serial", f"file:{console}"],
        )  # fmt: skip
        yield Worker(one, vm_id, qemu, port, key, console, started)
    finally:
        if qemu is not None and qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        emu.stop()
