"""A small Stratum-1 stand-in for tests: serves CVMFS-shaped paths with the expiry headers a Stratum-1 sends,
and counts what it serves so tests can see what crossed the "WAN"."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA_MAX_AGE = 3 * 24 * 3600  # Stratum-1 Apache: data objects "access plus 3 days"


def object_path(repo: str, name: str) -> str:
    digest = hashlib.sha1(name.encode()).hexdigest()
    return f"/cvmfs/{repo}/data/{digest[:2]}/{digest[2:]}"


@dataclass
class Origin:
    """objects: path -> size in bytes. manifest_max_age: seconds (a real Stratum-1 sends 61)."""

    objects: dict[str, int]
    repos: tuple[str, ...] = ("belle.cern.ch",)
    manifest_max_age: int = 61
    delay: float = 0.0
    hits: Counter[str] = field(default_factory=Counter)
    bytes_served: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def body(self, path: str) -> bytes | None:
        if path.endswith("/.cvmfspublished"):
            repo = path.split("/")[2]
            return f"C{hashlib.sha1(repo.encode()).hexdigest()}\nN{repo}\nT{int(time.time())}\n--\n".encode()
        size = self.objects.get(path)
        if size is None:
            return None
        seed = hashlib.sha256(path.encode()).digest()
        return (seed * (size // len(seed) + 1))[:size]

    def start(self) -> Origin:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path.startswith("http://"):
                    path = "/" + path.split("/", 3)[3]
                body = origin.body(path)
                if body is None:
                    self.send_error(404)
                    return
                if origin.delay:
                    time.sleep(origin.delay)
                max_age = origin.manifest_max_age if "/.cvmfs" in path else DATA_MAX_AGE
                with origin._lock:
                    origin.hits[path] += 1
                    origin.bytes_served += len(body)
                self.send_response(200)
                ctype = "application/x-cvmfs" if "/.cvmfs" in path else "application/octet-stream"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", f"max-age={max_age}")
                self.send_header(
                    "Expires", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + max_age))
                )
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
