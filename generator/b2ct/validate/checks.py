"""`b2ct validate`: does the site's cloud work? Each check says what it found, a figure, and how to fix it.

Everything goes through pyone, as any OpenNebula client would. The smoke VM is terminated whatever happens,
including a failed check or an interrupted run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import pyone

from b2ct import names
from b2ct.site import SiteModel
from b2ct.site.model import ASK

HOST_STATES = {0: "INIT", 1: "MONITORING_MONITORED", 2: "MONITORED", 3: "ERROR", 4: "DISABLED",
               5: "MONITORING_ERROR", 6: "MONITORING_INIT", 7: "MONITORING_DISABLED",
               8: "OFFLINE"}  # fmt: skip
IMAGE_STATES = {0: "INIT", 1: "READY", 2: "USED", 3: "DISABLED", 4: "LOCKED", 5: "ERROR", 6: "CLONE",
                7: "DELETE", 8: "USED_PERS", 9: "LOCKED_USED", 10: "LOCKED_USED_PERS"}  # fmt: skip
VM_PENDING, VM_ACTIVE, LCM_RUNNING = 1, 3, 3
MEMORY_TOLERANCE = 0.10  # a host reports a little less memory than its nominal size


@dataclass
class Result:
    check: str
    ok: bool | None  # None: not run (an earlier check failed)
    figure: str = ""
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Options:
    smoke: bool = True
    running_limit_s: float = 60.0  # the seed's figure: a worker runs within a minute
    ready_limit_s: float = 120.0
    poll_s: float = 0.5


def _by_name(pool: list[Any]) -> dict[str, Any]:
    return {obj.NAME: obj for obj in pool}


class Validation:
    def __init__(
        self, site: SiteModel, one: pyone.OneServer, endpoint: str, options: Options | None = None
    ) -> None:
        self.site = site
        self.one = one
        self.endpoint_url = endpoint
        self.options = options or Options()
        self.smoke_vm: int | None = None

    def run(self, progress: Callable[[Result], None] = lambda r: None) -> list[Result]:
        results: list[Result] = []
        try:
            for result in self._checks():
                progress(result)
                results.append(result)
        finally:
            cleanup = self.cleanup()
            if cleanup:
                progress(cleanup)
                results.append(cleanup)
        return results

    def _checks(self) -> Iterator[Result]:
        reachable = list(self.endpoint())
        yield from reachable
        if not all(r.ok for r in reachable):
            yield Result("everything else", None, "not run", "fix the endpoint and credentials first")
            return
        yield from self.hosts()
        yield from self.datastores()
        networks = list(self.networks())
        yield from networks
        image_ok, template = yield from self.image_and_template()
        if not self.options.smoke:
            return
        if image_ok and template is not None and all(r.ok for r in networks):
            yield from self.smoke(template)
        else:
            yield Result("smoke VM", None, "not run", "needs the networks, the worker image and its template")

    # --- checks ---------------------------------------------------------------------------------------
    def endpoint(self) -> Iterator[Result]:
        endpoint = self.endpoint_url
        start = time.monotonic()
        try:
            version = str(self.one.system.version())
        except pyone.OneAuthenticationException:
            yield Result("endpoint reachable", True, f"{endpoint}")
            yield Result(
                "credentials accepted",
                False,
                "authentication failed",
                "put user:password in the file ONE_AUTH names (default ~/.one/one_auth), mode 600",
            )
            return
        except (OSError, pyone.OneException) as exc:
            yield Result(
                "endpoint reachable",
                False,
                f"{type(exc).__name__}: {exc}"[:120],
                "check opennebula.endpoint (or ONE_XMLRPC), that oned and its TLS proxy run, the firewall",
            )
            return
        took = (time.monotonic() - start) * 1000
        yield Result("endpoint reachable", True, f"{took:.0f} ms")
        wanted = ".".join(self.site.opennebula.version.split(".")[:2])
        running = ".".join(version.split(".")[:2])
        yield Result(
            "version supported",
            running == wanted,
            f"OpenNebula {version} (site.yaml: {wanted})",
            "" if running == wanted else f"set opennebula.version to {running} or upgrade the front-end",
        )
        try:
            user = self.one.user.info(-1)
        except pyone.OneException as exc:
            yield Result("credentials accepted", False, str(exc)[:120], "check the user:password in ONE_AUTH")
            return
        yield Result("credentials accepted", True, f"user {user.NAME}")

    def hosts(self) -> Iterator[Result]:
        pool = _by_name(self.one.hostpool.info().HOST)
        for host in self.site.hosts:
            if not host.kvm:
                continue
            if host.name == ASK:
                yield Result(
                    "host (name asked at install)", None, "not checked", "give it a name in site.yaml"
                )
                continue
            check = f"host {host.name}"
            found = pool.get(host.name)
            if found is None:
                fix = f"register it on the front-end: onehost create {host.name} -i kvm -v kvm"
                yield Result(check, False, "not in OpenNebula", fix)
                continue
            state = HOST_STATES.get(found.STATE, str(found.STATE))
            if found.STATE != 2:
                fixes = {
                    "ERROR": f"onehost show {host.name} says why; check libvirtd and oneadmin's ssh to it",
                    "DISABLED": f"onehost enable {host.name}",
                    "OFFLINE": f"onehost enable {host.name} once it is back",
                }
                yield Result(
                    check, False, state, fixes.get(state, "wait for monitoring, then run validate again")
                )
                continue
            share = found.HOST_SHARE
            cpu, mem_kb = int(share.TOTAL_CPU), int(share.TOTAL_MEM)
            want_cpu, want_kb = host.cpu_threads * 100, host.memory_gb * 1024 * 1024
            figure = f"MONITORED, {cpu // 100} threads, {mem_kb / 1024 / 1024:.0f} GB"
            if cpu != want_cpu or abs(mem_kb - want_kb) > want_kb * MEMORY_TOLERANCE:
                fix = (
                    f"site.yaml says {host.cpu_threads} threads, {host.memory_gb} GB: correct it or the host"
                )
                yield Result(check, False, figure, fix)
            else:
                yield Result(check, True, figure)

    def datastores(self) -> Iterator[Result]:
        pool = _by_name(self.one.datastorepool.info().DATASTORE)
        need_mb = self.site.datastores.min_free_gb * 1024
        for kind in ("image", "system"):
            ds = getattr(self.site.datastores, kind)
            check = f"{kind} datastore {ds.name}"
            found = pool.get(ds.name)
            if found is None:
                yield Result(check, False, "not in OpenNebula", "make apply creates it")
            elif found.STATE != 0:
                yield Result(check, False, "disabled", f"onedatastore enable {ds.name}")
            elif int(found.FREE_MB) < need_mb:
                yield Result(
                    check,
                    False,
                    f"{int(found.FREE_MB) / 1024:.1f} GB free of {int(found.TOTAL_MB) / 1024:.0f} GB",
                    f"below datastores.min_free_gb ({self.site.datastores.min_free_gb} GB): delete unused "
                    "images (oneimage list) or grow the storage",
                )
            else:
                yield Result(check, True, f"{int(found.FREE_MB) / 1024:.0f} GB free")

    def networks(self) -> Iterator[Result]:
        pool = _by_name(self.one.vnpool.info(-2, -1, -1).VNET)
        for name in names.vm_networks(self.site):
            check = f"network {name}"
            found = pool.get(name)
            if found is None:
                yield Result(check, False, "not in OpenNebula", "make apply creates it")
                continue
            ars = found.AR_POOL.AR if found.AR_POOL is not None else []
            size = sum(int(ar.SIZE) for ar in ars)
            free = size - int(found.USED_LEASES)
            if free <= 0:
                fix = f"every lease is used or on hold: onevnet show {name}; release held ones or add a range"
                yield Result(check, False, f"0 of {size} leases free", fix)
            else:
                yield Result(check, True, f"{free} of {size} leases free")

    def image_and_template(self) -> Generator[Result, None, tuple[bool, Any]]:
        """Also returns whether the image is usable and the template found (None when missing)."""
        image_name, template_name = names.worker_image(self.site), names.worker_template(self.site)
        images = _by_name(self.one.imagepool.info(-2, -1, -1).IMAGE)
        image = images.get(image_name)
        image_ok = False
        if image is None:
            yield Result(f"image {image_name}", False, "not in OpenNebula", "make image, then make apply")
        else:
            state = IMAGE_STATES.get(image.STATE, str(image.STATE))
            image_ok = state in ("READY", "USED")
            fixes = {
                "ERROR": f"oneimage show {image_name} says why; delete it and upload again (make apply)",
                "LOCKED": "still being copied into the datastore: run validate again shortly",
                "DISABLED": f"oneimage enable {image_name}",
            }
            yield Result(f"image {image_name}", image_ok, state, "" if image_ok else fixes.get(state, ""))
        templates = _by_name(self.one.templatepool.info(-2, -1, -1).VMTEMPLATE)
        template = templates.get(template_name)
        if template is None:
            yield Result(f"template {template_name}", False, "not in OpenNebula", "make apply creates it")
        else:
            yield Result(f"template {template_name}", True, f"ID {template.ID}")
        return image_ok, template

    def smoke(self, template: Any) -> Iterator[Result]:
        start = time.monotonic()
        try:
            self.smoke_vm = self.one.template.instantiate(
                template.ID, f"b2ct-validate-{uuid.uuid4().hex[:8]}"
            )
        except pyone.OneException as exc:
            yield Result(
                "smoke VM running", False, f"not created: {exc}"[:120], "see the message; onevm list"
            )
            return
        vm = self._wait(lambda v: v.LCM_STATE == LCM_RUNNING or v.STATE not in (VM_PENDING, VM_ACTIVE))
        took = time.monotonic() - start
        limit = self.options.running_limit_s
        if vm.STATE == VM_ACTIVE and vm.LCM_STATE == LCM_RUNNING:
            yield Result("smoke VM running", True, f"{took:.1f} s (limit {limit:.0f} s)")
        elif vm.STATE == VM_PENDING:
            fix = "no host took it: check free CPU/memory (onehost list), template requirements, sched.log"
            yield Result("smoke VM running", False, f"still PENDING after {limit:.0f} s", fix)
            return
        else:
            fix = f"onevm show {self.smoke_vm} says why (often the image or the system datastore)"
            yield Result(
                "smoke VM running", False, f"state {vm.STATE}/{vm.LCM_STATE} after {took:.1f} s", fix
            )
            return
        if str(template.TEMPLATE.get("CONTEXT", {}).get("REPORT_READY", "")).upper() == "YES":
            ready = self._wait(lambda v: v.USER_TEMPLATE.get("READY") == "YES", self.options.ready_limit_s)
            took = time.monotonic() - start
            ok = ready.USER_TEMPLATE.get("READY") == "YES"
            fix = "" if ok else "the image did not report to OneGate: check ONEGATE_ENDPOINT and the firewall"
            yield Result("smoke VM READY (OneGate)", ok, f"{took:.1f} s", fix)

    def _wait(self, done: Callable[[Any], bool], limit: float | None = None) -> Any:
        assert self.smoke_vm is not None
        deadline = time.monotonic() + (limit or self.options.running_limit_s)
        while True:
            vm = self.one.vm.info(self.smoke_vm)
            if done(vm) or time.monotonic() >= deadline:
                return vm
            time.sleep(self.options.poll_s)

    def cleanup(self) -> Result | None:
        if self.smoke_vm is None:
            return None
        vm_id, self.smoke_vm = self.smoke_vm, None
        try:
            self.one.vm.action("terminate-hard", vm_id)
        except pyone.OneException as exc:
            return Result(
                "smoke VM removed", False, f"VM {vm_id}: {exc}"[:120], f"onevm terminate --hard {vm_id}"
            )
        return Result("smoke VM removed", True, f"VM {vm_id} terminated")
