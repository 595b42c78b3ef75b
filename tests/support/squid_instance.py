"""Run Debian's squid on loopback with a given squid.conf text, in its own folder, on its own port."""

from __future__ import annotations

import http.client
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from b2ct.squid.render import squid_conf
from b2ct.squid.view import SquidView

S1 = "s1.b2ct.test"  # the allowed Stratum-1, resolved through squid's own hosts_file
OTHER = "other.b2ct.test"  # a destination outside the allowed list


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Squid:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def get(self, url: str, source: str = "127.0.0.1", timeout: float = 60) -> tuple[int, bytes, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(source, 0))
        try:
            conn.request("GET", url)
            resp = conn.getresponse()
            return resp.status, resp.read(), resp.getheader("X-Cache", "")
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _scratch() -> tuple[Path, dict[str, str]]:
    # squid drops to the `proxy` user: its folder must be reachable outside pytest's private tmp folders.
    folder = Path(tempfile.mkdtemp(prefix="b2ct-squid-"))
    folder.chmod(0o755)
    for sub in ("cache", "logs"):
        (folder / sub).mkdir()
        shutil.chown(folder / sub, "proxy", "proxy")
    (folder / "hosts").write_text(f"127.0.0.1 {S1} {OTHER}\n")
    return folder, {"pid": str(folder / "squid.pid"), "hosts": str(folder / "hosts")}


def rendered_config(view: SquidView, origin_port: int) -> tuple[Path, int, str]:
    """The B2CT-rendered squid.conf, pointed at scratch paths, the test origin and loopback clients."""
    folder, f = _scratch()
    port = free_port()
    local = replace(
        view,
        port=port,
        stratum1=[S1],
        client_cidrs=["127.0.0.1/32"],  # the allowed "worker network"; 127.0.0.2 stands outside it
        stratum1_ports=(origin_port,),
        cache_dir=str(folder / "cache"),
        log_dir=str(folder / "logs"),
        pid_file=f["pid"],
        hosts_file=f["hosts"],
        extra=["shutdown_lifetime 1 seconds"],
    )
    return folder, port, squid_conf(local)


def stock_config() -> tuple[Path, int, str]:
    """Debian's own /etc/squid/squid.conf, changed only in where it listens and writes."""
    folder, f = _scratch()
    port = free_port()
    text = Path("/etc/squid/squid.conf").read_text().replace("http_port 3128", f"http_port {port}")
    text += (
        f"\npid_filename {f['pid']}\nhosts_file {f['hosts']}\naccess_log {folder}/logs/access.log\n"
        f"cache_log {folder}/logs/cache.log\ncoredump_dir {folder}/cache\nshutdown_lifetime 1 seconds\n"
    )
    return folder, port, text


def start(folder: Path, port: int, conf_text: str) -> Squid:
    if os.geteuid() != 0:
        raise RuntimeError("squid tests run as root (squid switches to the proxy user)")
    pwd.getpwnam("proxy")
    conf = folder / "squid.conf"
    conf.write_text(conf_text)
    squid = shutil.which("squid") or "/usr/sbin/squid"
    subprocess.run([squid, "-z", "-N", "-f", str(conf)], check=True, capture_output=True, timeout=60)
    proc = subprocess.Popen(
        [squid, "-N", "-f", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    instance = Squid(folder, port, proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (folder / "logs" / "cache.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"squid exited with {proc.returncode}: {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return instance
        except OSError:
            time.sleep(0.1)
    instance.stop()
    raise RuntimeError("squid did not start listening within 30 s")
