"""Benchmark: emulator calls per second (info, allocate) and one.vmpool.info latency with 10,000 VMs.

Goal: one.vmpool.info with 10,000 VMs answers in under 1 s. Prints figures; asserts nothing.
"""

from __future__ import annotations

import sys
import time
import xmlrpc.client
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from b2ct.emulator.backend import HostSize
from b2ct.emulator.server import Emulator

SESSION = "oneadmin:bench"
VMS = 10_000


def rate(label: str, n: int, call: object) -> None:
    start = time.perf_counter()
    for i in range(n):
        call(i)  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"{label:<28} {n / elapsed:8.0f} calls/s  ({n} calls, {elapsed:.2f} s)")


def main() -> int:
    emu = Emulator(
        {"oneadmin": "bench"}, port=0, onegate_port=0, host_size=HostSize(cpu=10**6, memory_mb=10**8)
    ).start()
    rpc = xmlrpc.client.ServerProxy(emu.endpoint)
    try:
        rpc.one.host.allocate(SESSION, "node1", "kvm", "kvm", -1)
        rate(
            "one.template.allocate",
            500,
            lambda i: rpc.one.template.allocate(SESSION, f'NAME="t{i}"\nCPU="0.01"\nMEMORY="16"'),
        )
        rate("one.template.info", 1000, lambda i: rpc.one.template.info(SESSION, i % 500))
        rate(
            "one.template.instantiate",
            500,
            lambda i: rpc.one.template.instantiate(SESSION, i % 500, "", False, ""),
        )
        rate("one.vm.info", 1000, lambda i: rpc.one.vm.info(SESSION, i % 500))
        assert emu.backend is not None
        start = time.perf_counter()
        with emu.backend.lock:
            for i in range(VMS - 500):
                emu.backend.template_instantiate(i % 500, "", False, "")
            emu.backend.tick()  # place them, as the XML-RPC layer does after each call
            emu.backend.commit()
        print(f"filled to {VMS} VMs in {time.perf_counter() - start:.1f} s (in-process)")
        times = []
        for _ in range(5):
            start = time.perf_counter()
            ok, body, _ = rpc.one.vmpool.info(SESSION, -2, -1, -1, -1)
            times.append(time.perf_counter() - start)
            assert ok and body.count("<VM>") == VMS
        best, worst = min(times), max(times)
        print(
            f"one.vmpool.info, {VMS} VMs: best {best:.3f} s, worst {worst:.3f} s, {len(body) / 1e6:.1f} MB; "
            f"goal < 1 s: {'met' if worst < 1 else 'MISSED'}"
        )
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
