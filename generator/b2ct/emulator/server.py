"""Run the emulator: XML-RPC on one port, OneGate on another; in-process (tests) or as `b2ct emulator serve`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from b2ct.emulator.backend import Backend, HostSize, Timing
from b2ct.emulator.onegate import OneGateHandler
from b2ct.emulator.rpc import Api
from b2ct.errors import UserError


class _Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/", "/RPC2")

    def log_message(self, format: str, *args: object) -> None:
        pass


class _RpcServer(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    allow_reuse_address = True


def read_auth_file(path: Path) -> dict[str, str]:
    """Lines `user:password`, as in ONE_AUTH files."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the emulator's auth file: {exc.strerror}") from None
    users = {}
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        user, sep, password = line.strip().partition(":")
        if not sep or not user or not password:
            raise UserError(f"{path}: line {n}: expected user:password")
        users[user] = password
    if not users:
        raise UserError(f"{path}: no user:password line")
    return users


@dataclass
class Emulator:
    users: dict[str, str]
    host: str = "127.0.0.1"
    port: int = 2633
    onegate_port: int = 5030
    version: str = "6.10.0"
    state_file: Path | None = None
    timing: Timing = field(default_factory=Timing)
    host_size: HostSize = field(default_factory=HostSize)
    onegate_host: str | None = None  # the address VMs use for OneGate, when not the listening one
    backend: Backend | None = None
    _servers: list[Any] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/RPC2"

    def start(self) -> Emulator:
        try:
            rpc = _RpcServer(
                (self.host, self.port), requestHandler=_Handler, logRequests=False, allow_none=False
            )
            gate = ThreadingHTTPServer((self.host, self.onegate_port), OneGateHandler)
        except OSError as exc:
            raise UserError(
                f"emulator: cannot listen on {self.host}:{self.port}/{self.onegate_port}: {exc.strerror}"
            ) from None
        self.port = rpc.server_address[1]
        self.onegate_port = gate.server_address[1]
        self.backend = Backend(
            version=self.version,
            timing=self.timing,
            host_size=self.host_size,
            state_file=self.state_file,
            onegate_endpoint=f"http://{self.onegate_host or self.host}:{self.onegate_port}",
        )
        api = Api(self.backend, self.users)
        rpc.register_instance(_Dispatcher(api))
        gate.backend = self.backend  # type: ignore[attr-defined]
        gate.daemon_threads = True
        self._servers = [rpc, gate]
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        if self.backend is not None:
            self.backend.close()


class _Dispatcher:
    def __init__(self, api: Api) -> None:
        self.api = api

    def _dispatch(self, method: str, params: tuple[Any, ...]) -> list[Any]:
        return self.api.dispatch(method, params)
