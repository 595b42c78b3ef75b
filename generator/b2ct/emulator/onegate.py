"""A minimal OneGate: a VM with TOKEN=YES reports (PUT /vm) and reads (GET /vm) its own record."""

from __future__ import annotations

import json
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import Any

from b2ct.emulator import template as tpl
from b2ct.emulator.backend import Backend, OneError
from b2ct.emulator.objects import Obj


def _as_dict(t: tpl.Template) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in t:
        value: Any = dict(v) if isinstance(v, list) else v
        if k in out:
            out[k] = [*(out[k] if isinstance(out[k], list) else [out[k]]), value]
        else:
            out[k] = value
    return out


def vm_document(vm: Obj) -> dict[str, Any]:
    e = vm.extra
    return {
        "VM": {
            "NAME": vm.name,
            "ID": str(vm.id),
            "STATE": str(e["state"]),
            "LCM_STATE": str(e["lcm_state"]),
            "USER_TEMPLATE": _as_dict(e["user_template"]),
            "TEMPLATE": {"NIC": [dict(n) for n in tpl.vectors(vm.template, "NIC")]},
        }
    }


class OneGateHandler(BaseHTTPRequestHandler):
    """The server it is bound to carries the backend (`server.backend`)."""

    protocol_version = "HTTP/1.1"

    @property
    def backend(self) -> Backend:
        return self.server.backend  # type: ignore[attr-defined]

    def _vm(self) -> Obj | None:
        try:
            vid = int(self.headers.get("X-ONEGATE-VMID", "-1"))
            with self.backend.lock:
                return self.backend.onegate_vm(vid, self.headers.get("X-ONEGATE-TOKEN", ""))
        except (ValueError, OneError):
            self._reply(401, {"error": "invalid token or VM id"})
            return None

    def _reply(self, code: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        vm = self._vm()
        if vm is None:
            return
        if self.path.split("?")[0] != "/vm":
            self._reply(404, {"error": f"{self.path} is not served by the B2CT emulator's OneGate"})
            return
        with self.backend.lock:
            self._reply(200, vm_document(vm))

    def do_PUT(self) -> None:
        vm = self._vm()
        if vm is None:
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0)).decode()
        form = urllib.parse.parse_qs(raw)
        text = form["data"][0] if "data" in form else raw  # onegate.rb sends data=...; curl sends raw
        delete = "type=2" in self.path
        with self.backend.lock:
            try:
                attrs = tpl.parse(text)
            except tpl.TemplateError as exc:
                self._reply(400, {"error": str(exc)})
                return
            ut = vm.extra["user_template"]
            if delete:
                vm.extra["user_template"] = tpl.remove(ut, {k for k, _ in attrs})
            else:
                vm.extra["user_template"] = tpl.merge(ut, attrs)
            self.backend.touch(vm)
            self.backend.commit()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass
