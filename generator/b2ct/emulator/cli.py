"""`b2ct emulator serve`: the emulator as a long-running process (SIGTERM stops it cleanly)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from b2ct.emulator.backend import HostSize, Timing
from b2ct.emulator.server import Emulator, read_auth_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    emu = sub.add_parser("emulator", help="OpenNebula XML-RPC emulator (a stand-in for demos and CI)")
    esub = emu.add_subparsers(dest="emulator_command", required=True, metavar="ACTION")
    serve = esub.add_parser("serve", help="serve XML-RPC and OneGate until SIGTERM")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=2633, help="XML-RPC port (default 2633)")
    serve.add_argument("--onegate-port", type=int, default=5030, help="OneGate port (default 5030)")
    serve.add_argument("--onegate-host", default=None, help="address VMs use to reach OneGate")
    serve.add_argument("--state", type=Path, required=True, help="SQLite file; a restart keeps every object")
    serve.add_argument("--version", dest="one_version", default="6.10.0", help="OpenNebula version to report")
    serve.add_argument("--auth-file", type=Path, required=True, help="file of user:password lines")
    serve.add_argument("--timing", choices=["instant", "realistic"], default="realistic")
    serve.add_argument(
        "--host-cpu", type=int, default=800, help="CPU units of each emulated host (100/thread)"
    )
    serve.add_argument("--host-memory-mb", type=int, default=32768, help="memory of each emulated host")
    serve.set_defaults(func=serve_command)
    seed = esub.add_parser("seed", help="create ENV's hosts, datastores, networks, image, template (demo)")
    seed.add_argument("env", metavar="ENV")
    seed.set_defaults(func=seed_command)


def seed_command(args: argparse.Namespace) -> int:
    import pyone

    from b2ct.emulator.seed import seed
    from b2ct.site import load_site
    from b2ct.validate.run import credentials, endpoint

    site = load_site(args.env)
    ids = seed(site, pyone.OneServer(endpoint(site), session=credentials()))
    print(f"seeded {endpoint(site)} with site {args.env}: {', '.join(ids)}")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    emulator = Emulator(
        users=read_auth_file(args.auth_file),
        host=args.host,
        port=args.port,
        onegate_port=args.onegate_port,
        onegate_host=args.onegate_host,
        version=args.one_version,
        state_file=args.state,
        timing=Timing.realistic() if args.timing == "realistic" else Timing(),
        host_size=HostSize(cpu=args.host_cpu, memory_mb=args.host_memory_mb),
    ).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(
        f"B2CT OpenNebula emulator (not OpenNebula) {args.one_version}: XML-RPC {emulator.endpoint}, "
        f"OneGate http://{args.host}:{emulator.onegate_port}, state {args.state}",
        flush=True,
    )
    stop.wait()
    emulator.stop()
    print("emulator stopped; state saved", file=sys.stderr, flush=True)
    return 0
