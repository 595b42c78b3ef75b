"""The emulator's state: pools of plain objects, their state machines and a scheduler. No XML-RPC here.

Time is explicit: every operation first applies the transitions that are due, so tests can run with instant
timing and demos with realistic delays (image copies that take size / bandwidth, VMs that take a while to boot).
"""

from __future__ import annotations

import ipaddress
import pickle
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from b2ct.emulator import objects as O
from b2ct.emulator import template as tpl
from b2ct.emulator.objects import Obj
from b2ct.emulator.template import Template, TemplateError


class OneError(Exception):
    code = 0x2000

    def __init__(self, message: str, obj_id: int = -1) -> None:
        super().__init__(message)
        self.obj_id = obj_id


class AuthError(OneError):
    code = 0x100


class NoExists(OneError):
    code = 0x400


class ActionError(OneError):
    code = 0x800


class ApiError(OneError):
    code = 0x1000


class AllocateError(OneError):
    code = 0x4000


class LockedError(OneError):
    code = 0x8000


@dataclass(frozen=True)
class Timing:
    """Seconds each transition takes. Zero everywhere: instant (unit tests)."""

    vm_step: float = 0.0  # PENDING->PROLOG->BOOT->RUNNING and SHUTDOWN->DONE, per step
    host_monitor: float = 0.0  # INIT -> MONITORED
    vnet_create: float = 0.0  # LOCK_CREATE -> READY
    image_bandwidth_mb_s: float = 0.0  # 0: copies are instant; else copy time = size / bandwidth

    @classmethod
    def realistic(cls) -> Timing:
        return cls(vm_step=2.0, host_monitor=3.0, vnet_create=1.0, image_bandwidth_mb_s=200.0)


@dataclass(frozen=True)
class HostSize:
    cpu: int = 800  # OpenNebula CPU units (100 per thread)
    memory_mb: int = 32768
    disk_mb: int = 500_000


class Backend:
    KINDS = ("user", "group", "cluster", "host", "datastore", "image", "vn", "template", "secgroup", "vm")

    def __init__(
        self,
        version: str = "6.10.0",
        timing: Timing | None = None,
        host_size: HostSize | None = None,
        state_file: Path | None = None,
        onegate_endpoint: str = "http://127.0.0.1:5030",
        datastore_mb: int = 1_000_000,
    ) -> None:
        self.version = version
        self.timing = timing or Timing()
        self.host_size = host_size or HostSize()
        self.onegate_endpoint = onegate_endpoint
        self.datastore_mb = datastore_mb
        self.lock = threading.RLock()
        self.pools: dict[str, dict[int, Obj]] = {k: {} for k in self.KINDS}
        self.next_id: dict[str, int] = {k: 0 for k in self.KINDS}
        self.pending: list[tuple[float, str, int, str]] = []  # (when, kind, id, what)
        self.dirty: set[tuple[str, int]] = set()
        self.deleted: set[tuple[str, int]] = set()
        self.db: sqlite3.Connection | None = None
        if state_file is not None:
            self.db = sqlite3.connect(str(state_file), check_same_thread=False)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS objects (kind TEXT, id INTEGER, blob BLOB, PRIMARY KEY (kind, id))"
            )
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, blob BLOB)")
            if self._load():
                return
        self._bootstrap()
        self.commit()

    # --- persistence ---------------------------------------------------------------------------------------
    def _load(self) -> bool:
        assert self.db is not None
        rows = self.db.execute("SELECT kind, id, blob FROM objects").fetchall()
        meta = dict(self.db.execute("SELECT key, blob FROM meta").fetchall())
        if not rows:
            return False
        for kind, oid, blob in rows:
            self.pools[kind][oid] = pickle.loads(blob)
        self.next_id = pickle.loads(meta["next_id"])
        self.pending = pickle.loads(meta["pending"])
        return True

    def commit(self) -> None:
        """Write what changed since the last commit (one transaction per API call)."""
        if self.db is None or not (self.dirty or self.deleted):
            self.dirty.clear()
            self.deleted.clear()
            return
        with self.db:
            for kind, oid in self.deleted:
                self.db.execute("DELETE FROM objects WHERE kind=? AND id=?", (kind, oid))
            for kind, oid in self.dirty:
                obj = self.pools[kind].get(oid)
                if obj is not None:
                    self.db.execute(
                        "INSERT OR REPLACE INTO objects VALUES (?,?,?)", (kind, oid, pickle.dumps(obj))
                    )
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('next_id', ?)", (pickle.dumps(self.next_id),)
            )
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('pending', ?)", (pickle.dumps(self.pending),)
            )
        self.dirty.clear()
        self.deleted.clear()

    def close(self) -> None:
        with self.lock:
            self.commit()
            if self.db is not None:
                self.db.close()
                self.db = None

    # --- generic helpers -----------------------------------------------------------------------------------
    def _new(self, kind: str, name: str, template: Template, **extra: Any) -> Obj:
        oid = self.next_id[kind]
        self.next_id[kind] += 1
        obj = Obj(kind=kind, id=oid, name=name, template=template, regtime=int(time.time()), extra=extra)
        self.pools[kind][oid] = obj
        self.dirty.add((kind, oid))
        return obj

    def touch(self, obj: Obj) -> None:
        self.dirty.add((obj.kind, obj.id))

    def get(self, kind: str, oid: int) -> Obj:
        obj = self.pools[kind].get(oid)
        if obj is None:
            raise NoExists(f"Error getting {O.NOUN[kind]} [{oid}].", oid)
        return obj

    def drop(self, obj: Obj) -> None:
        del self.pools[obj.kind][obj.id]
        self.dirty.discard((obj.kind, obj.id))
        self.deleted.add((obj.kind, obj.id))

    def by_name(self, kind: str, name: str) -> Obj | None:
        return next((o for o in self.pools[kind].values() if o.name == name), None)

    def check_unique(self, kind: str, name: str) -> None:
        if not name:
            raise AllocateError(f"Error allocating a new {O.NOUN[kind]}. No NAME in template.")
        clash = self.by_name(kind, name)
        if clash is not None:
            raise AllocateError(
                f"Error allocating a new {O.NOUN[kind]}. NAME is already taken by {kind.upper()} {clash.id}."
            )

    def check_unlocked(self, obj: Obj, level: int = 1) -> None:
        if obj.lock is not None and obj.lock >= level:
            raise LockedError(f"{O.NOUN[obj.kind].capitalize()} [{obj.id}] is locked.", obj.id)

    def later(self, delay: float, kind: str, oid: int, what: str) -> None:
        """Queue a transition; the next tick() applies it once due (at once with zero delay)."""
        self.pending.append((time.monotonic() + delay if delay > 0 else 0.0, kind, oid, what))

    @staticmethod
    def parse(text: str) -> Template:
        try:
            return tpl.parse(text)
        except TemplateError as exc:
            raise ApiError(f"Parse error: {exc}") from None

    # --- time: transitions and scheduling ------------------------------------------------------------------
    def tick(self) -> None:
        now = time.monotonic()
        progressed = True
        while progressed:
            progressed = False
            due = [p for p in self.pending if p[0] <= now]
            if due:
                self.pending = [p for p in self.pending if p[0] > now]
                for _, kind, oid, what in due:
                    obj = self.pools[kind].get(oid)
                    if obj is not None:
                        self._transition(obj, what)
                progressed = True
            if self._schedule():
                progressed = True

    def _transition(self, obj: Obj, what: str) -> None:
        e = obj.extra
        self.touch(obj)
        if what == "image_ready" and e["state"] == O.IMG_LOCKED:
            e["state"] = O.IMG_READY
            obj.lock = None
        elif what == "vnet_ready":
            e["state"] = O.VN_READY
        elif what == "host_monitored" and e["state"] == O.HOST_INIT:
            e["state"] = O.HOST_MONITORED
        elif what == "vm_boot" and e["lcm_state"] == O.LCM_PROLOG:
            e["lcm_state"] = O.LCM_BOOT
            self.later(self.timing.vm_step, "vm", obj.id, "vm_running")
        elif what == "vm_running" and e["lcm_state"] == O.LCM_BOOT:
            e["lcm_state"] = O.LCM_RUNNING
        elif what == "vm_done" and e["lcm_state"] in (O.LCM_SHUTDOWN, O.LCM_EPILOG):
            self._finish_vm(obj)
        elif what == "vm_poweroff" and e["lcm_state"] == O.LCM_SHUTDOWN_POWEROFF:
            e["state"], e["lcm_state"] = O.VM_POWEROFF, O.LCM_INIT

    def _schedule(self) -> bool:
        """Place PENDING VMs, oldest first, on the first enabled host with free CPU and memory."""
        placed = False
        for vm in sorted(self.pools["vm"].values(), key=lambda v: v.id):
            if vm.extra["state"] != O.VM_PENDING:
                continue
            cpu = int(float(tpl.get_str(vm.template, "CPU", "1")) * 100)
            mem = int(tpl.get_str(vm.template, "MEMORY", "128")) * 1024
            for host in sorted(self.pools["host"].values(), key=lambda h: h.id):
                h = host.extra
                if h["state"] != O.HOST_MONITORED:
                    continue
                if h["cpu_used"] + cpu <= h["total_cpu"] and h["mem_used"] + mem <= h["total_mem"]:
                    h["cpu_used"] += cpu
                    h["mem_used"] += mem
                    h["vms"].append(vm.id)
                    self.touch(host)
                    e = vm.extra
                    e.update(
                        state=O.VM_ACTIVE,
                        lcm_state=O.LCM_PROLOG,
                        host_id=host.id,
                        hostname=host.name,
                        deploy_id=f"one-{vm.id}",
                        cpu=cpu,
                        mem=mem,
                    )
                    self.touch(vm)
                    self.later(self.timing.vm_step, "vm", vm.id, "vm_boot")
                    placed = True
                    break
        return placed

    def _release_host(self, vm: Obj) -> None:
        e = vm.extra
        host = self.pools["host"].get(e["host_id"])
        if host is not None and vm.id in host.extra["vms"]:
            host.extra["vms"].remove(vm.id)
            host.extra["cpu_used"] -= e.get("cpu", 0)
            host.extra["mem_used"] -= e.get("mem", 0)
            self.touch(host)

    def _finish_vm(self, vm: Obj) -> None:
        e = vm.extra
        self._release_host(vm)
        for nic in tpl.vectors(vm.template, "NIC"):
            self._free_lease(int(tpl.vget(nic, "NETWORK_ID", "-1")), tpl.vget(nic, "IP"))
        for disk in tpl.vectors(vm.template, "DISK"):
            image = self.pools["image"].get(int(tpl.vget(disk, "IMAGE_ID", "-1")))
            if image is not None and vm.id in image.extra["vms"]:
                image.extra["vms"].remove(vm.id)
                if not image.extra["vms"] and image.extra["state"] == O.IMG_USED:
                    image.extra["state"] = O.IMG_READY
                self.touch(image)
        e.update(state=O.VM_DONE, lcm_state=O.LCM_INIT, etime=int(time.time()))
        self.touch(vm)

    # --- bootstrap: what a fresh front-end has -------------------------------------------------------------
    def _bootstrap(self) -> None:
        self._new("group", "oneadmin", [], users=[0])
        self._new("group", "users", [], users=[])
        self._new("user", "oneadmin", [("TOKEN_PASSWORD", secrets.token_hex(16))])
        self._new(
            "cluster",
            "default",
            [("RESERVED_CPU", ""), ("RESERVED_MEM", "")],
            hosts=[],
            datastores=[0, 1, 2],
            vnets=[],
        )
        tm = "ssh" if self.version.startswith("6.") else "local"
        for name, ds_type, ds_mad, kind in (
            ("system", O.DS_SYSTEM, "-", "SYSTEM_DS"),
            ("default", O.DS_IMAGE, "fs", "IMAGE_DS"),
            ("files", O.DS_FILE, "fs", "FILE_DS"),
        ):
            self._new(
                "datastore",
                name,
                [("DS_MAD", ds_mad), ("TM_MAD", tm), ("TYPE", kind)],
                ds_mad=ds_mad,
                tm_mad=tm,
                type=ds_type,
                state=0,
                clusters=[0],
                total_mb=self.datastore_mb,
                used_mb=0,
                images=[],
            )
        self._new(
            "secgroup",
            "default",
            [
                ("DESCRIPTION", "The default security group is added to every network."),
                ("RULE", [("PROTOCOL", "ALL"), ("RULE_TYPE", "OUTBOUND")]),
                ("RULE", [("PROTOCOL", "ALL"), ("RULE_TYPE", "INBOUND")]),
            ],
            vms=[],
        )

    # --- clusters ------------------------------------------------------------------------------------------
    def cluster_allocate(self, name: str) -> int:
        self.check_unique("cluster", name)
        return self._new("cluster", name, [], hosts=[], datastores=[], vnets=[]).id

    def cluster_member(self, cid: int, kind: str, oid: int, add: bool) -> int:
        cluster = self.get("cluster", cid)
        member = self.get(kind, oid)
        key = {"host": "hosts", "datastore": "datastores", "vn": "vnets"}[kind]
        ids: list[int] = cluster.extra[key]
        if add:
            if kind == "host":  # a host belongs to exactly one cluster
                for other in self.pools["cluster"].values():
                    if oid in other.extra["hosts"]:
                        other.extra["hosts"].remove(oid)
                        self.touch(other)
                member.extra.update(cluster_id=cid, cluster=cluster.name)
            elif cid not in member.extra["clusters"]:
                member.extra["clusters"].append(cid)
            if oid not in ids:
                ids.append(oid)
        else:
            if oid in ids:
                ids.remove(oid)
            if kind != "host" and cid in member.extra["clusters"]:
                member.extra["clusters"].remove(cid)
        self.touch(cluster)
        self.touch(member)
        return cid

    def cluster_delete(self, cid: int) -> int:
        cluster = self.get("cluster", cid)
        if any(cluster.extra[k] for k in ("hosts", "datastores", "vnets")) and cid != 0:
            raise ActionError(f"Cannot delete cluster. Cluster {cid} is not empty.", cid)
        self.drop(cluster)
        return cid

    # --- hosts ---------------------------------------------------------------------------------------------
    def host_allocate(self, name: str, im_mad: str, vm_mad: str, cluster_id: int = -1) -> int:
        self.check_unique("host", name)
        cid = cluster_id if cluster_id >= 0 else 0
        cluster = self.get("cluster", cid)
        s = self.host_size
        host = self._new(
            "host",
            name,
            [("HYPERVISOR", vm_mad)],
            state=O.HOST_INIT,
            im_mad=im_mad,
            vm_mad=vm_mad,
            cluster_id=cid,
            cluster=cluster.name,
            total_cpu=s.cpu,
            total_mem=s.memory_mb * 1024,
            cpu_used=0,
            mem_used=0,
            free_disk=s.disk_mb,
            vms=[],
        )
        cluster.extra["hosts"].append(host.id)
        self.touch(cluster)
        self.later(self.timing.host_monitor, "host", host.id, "host_monitored")
        return host.id

    def host_status(self, hid: int, status: int) -> int:
        host = self.get("host", hid)
        host.extra["state"] = {0: O.HOST_MONITORED, 1: O.HOST_DISABLED, 2: O.HOST_OFFLINE}.get(
            status, O.HOST_MONITORED
        )
        self.touch(host)
        return hid

    def host_delete(self, hid: int) -> int:
        host = self.get("host", hid)
        if host.extra["vms"]:
            raise ActionError(f"Can not remove host {hid}: it is running VMs.", hid)
        for cluster in self.pools["cluster"].values():
            if hid in cluster.extra["hosts"]:
                cluster.extra["hosts"].remove(hid)
                self.touch(cluster)
        self.drop(host)
        return hid

    # --- datastores ----------------------------------------------------------------------------------------
    def datastore_allocate(self, text: str, cluster_id: int = -1) -> int:
        t = self.parse(text)
        name = tpl.get_str(t, "NAME")
        self.check_unique("datastore", name)
        kind = tpl.get_str(t, "TYPE", "IMAGE_DS").upper()
        ds_type = {"IMAGE_DS": O.DS_IMAGE, "SYSTEM_DS": O.DS_SYSTEM, "FILE_DS": O.DS_FILE}.get(kind)
        if ds_type is None:
            raise AllocateError(f"Error allocating a new datastore. Unknown TYPE {kind}.")
        tm = tpl.get_str(t, "TM_MAD")
        if not tm:
            raise AllocateError("Error allocating a new datastore. No TM_MAD in template.")
        ds_mad = tpl.get_str(t, "DS_MAD", "-")
        cid = cluster_id if cluster_id >= 0 else 0
        ds = self._new(
            "datastore",
            name,
            tpl.remove(t, {"NAME"}),
            ds_mad=ds_mad,
            tm_mad=tm,
            type=ds_type,
            state=0,
            clusters=[],
            total_mb=self.datastore_mb,
            used_mb=0,
            images=[],
        )
        self.cluster_member(cid, "datastore", ds.id, True)
        return ds.id

    def datastore_delete(self, did: int) -> int:
        ds = self.get("datastore", did)
        if ds.extra["images"]:
            raise ActionError(f"Cannot delete datastore. Datastore {did} is not empty.", did)
        for cluster in self.pools["cluster"].values():
            if did in cluster.extra["datastores"]:
                cluster.extra["datastores"].remove(did)
                self.touch(cluster)
        self.drop(ds)
        return did

    # --- security groups -----------------------------------------------------------------------------------
    def secgroup_allocate(self, text: str) -> int:
        t = self.parse(text)
        name = tpl.get_str(t, "NAME")
        self.check_unique("secgroup", name)
        return self._new("secgroup", name, tpl.remove(t, {"NAME"}), vms=[]).id

    def secgroup_delete(self, sid: int) -> int:
        sg = self.get("secgroup", sid)
        if sid == 0:
            raise ActionError("The default security group (ID 0) cannot be deleted.", sid)
        if sg.extra["vms"]:
            raise ActionError(f"Cannot delete security group {sid}: it is in use by VMs.", sid)
        self.drop(sg)
        return sid

    # --- virtual networks ----------------------------------------------------------------------------------
    def vn_allocate(self, text: str, cluster_id: int = -1) -> int:
        t = self.parse(text)
        name = tpl.get_str(t, "NAME")
        self.check_unique("vn", name)
        vn_mad = tpl.get_str(t, "VN_MAD")
        if not vn_mad:
            raise AllocateError("Error allocating a new virtual network. No VN_MAD in template.")
        bridge = tpl.get_str(t, "BRIDGE") or f"onebr{self.next_id['vn']}"
        rest = tpl.remove(t, {"NAME", "AR"})
        if tpl.get(rest, "SECURITY_GROUPS") is None:
            rest.append(("SECURITY_GROUPS", "0"))
        vn = self._new(
            "vn",
            name,
            rest,
            vn_mad=vn_mad,
            bridge=bridge,
            phydev=tpl.get_str(t, "PHYDEV"),
            vlan_id=tpl.get_str(t, "VLAN_ID"),
            state=O.VN_LOCK_CREATE,
            clusters=[],
            ars=[],
            next_ar=0,
            held=set(),
        )
        for ar in tpl.vectors(t, "AR"):
            self._add_ar(vn, ar)
        self.cluster_member(cluster_id if cluster_id >= 0 else 0, "vn", vn.id, True)
        self.later(self.timing.vnet_create, "vn", vn.id, "vnet_ready")
        return vn.id

    def _add_ar(self, vn: Obj, ar: tpl.Vector) -> int:
        kind = tpl.vget(ar, "TYPE").upper()
        if kind not in ("IP4", "ETHER", "IP4_6", "IP6"):
            raise ActionError(f"Error in address range: wrong or missing TYPE {kind!r}.", vn.id)
        try:
            size = int(tpl.vget(ar, "SIZE"))
            if kind in ("IP4", "IP4_6"):
                ipaddress.IPv4Address(tpl.vget(ar, "IP"))
        except ValueError:
            raise ActionError("Error in address range: SIZE and IP must be valid.", vn.id) from None
        ar_id = vn.extra["next_ar"]
        vn.extra["next_ar"] += 1
        attrs = [(k, v) for k, v in ar if k not in ("AR_ID",)]
        if tpl.vget(ar, "MAC") == "":
            attrs.append(("MAC", f"02:00:{vn.id:02x}:{ar_id:02x}:00:00"))
        vn.extra["ars"].append({"id": ar_id, "size": size, "attrs": attrs, "leases": {}})
        self.touch(vn)
        return ar_id

    def vn_add_ar(self, vid: int, text: str) -> int:
        vn = self.get("vn", vid)
        ars = tpl.vectors(self.parse(text), "AR")
        if not ars:
            raise ActionError("Wrong AR definition. AR vector not found.", vid)
        for ar in ars:
            self._add_ar(vn, ar)
        return vid

    def _ar(self, vn: Obj, ar_id: int) -> dict[str, Any]:
        ar = next((a for a in vn.extra["ars"] if a["id"] == ar_id), None)
        if ar is None:
            raise ActionError(f"Address Range {ar_id} does not exist.", vn.id)
        return ar

    def vn_update_ar(self, vid: int, text: str) -> int:
        vn = self.get("vn", vid)
        for new in tpl.vectors(self.parse(text), "AR"):
            ar = self._ar(vn, int(tpl.vget(new, "AR_ID", "-1")))
            if tpl.vget(new, "SIZE"):
                size = int(tpl.vget(new, "SIZE"))
                if size < len(ar["leases"]):
                    raise ActionError("Address Range has leases in use.", vid)
                ar["size"] = size
            keep = {k for k, _ in new} | {"AR_ID", "SIZE", "IP", "TYPE", "MAC"}
            ar["attrs"] = [(k, v) for k, v in ar["attrs"] if k not in keep or k in ("IP", "TYPE", "MAC")]
            ar["attrs"] += [(k, v) for k, v in new if k not in ("AR_ID", "SIZE", "IP", "TYPE", "MAC")]
        self.touch(vn)
        return vid

    def vn_rm_ar(self, vid: int, ar_id: int) -> int:
        vn = self.get("vn", vid)
        ar = self._ar(vn, ar_id)
        if ar["leases"]:
            raise ActionError("Address Range has leases in use.", vid)
        vn.extra["ars"].remove(ar)
        self.touch(vn)
        return vid

    def vn_free_ar(self, vid: int, ar_id: int) -> int:
        vn = self.get("vn", vid)
        ar = self._ar(vn, ar_id)
        if any(vm >= 0 for _, vm in ar["leases"].values()):
            raise ActionError("Address Range has leases in use.", vid)
        ar["leases"].clear()
        self.touch(vn)
        return vid

    def vn_hold(self, vid: int, text: str, hold: bool) -> int:
        vn = self.get("vn", vid)
        t = self.parse(text)
        lease = tpl.vectors(t, "LEASES")
        ip = tpl.vget(lease[0], "IP") if lease else tpl.get_str(t, "IP")
        for ar in vn.extra["ars"]:
            first = int(ipaddress.IPv4Address(tpl.vget(ar["attrs"], "IP", "0.0.0.0")))
            if first <= int(ipaddress.IPv4Address(ip)) < first + ar["size"]:
                if hold:
                    if ip in ar["leases"]:
                        raise ActionError(f"Address {ip} is already in use.", vid)
                    ar["leases"][ip] = ("", -1)
                elif ar["leases"].get(ip, ("", 0))[1] == -1:
                    del ar["leases"][ip]
                self.touch(vn)
                return vid
        raise ActionError(f"Address {ip} is not part of any address range.", vid)

    def _lease(self, vn: Obj, vm_id: int, ar_filter: int | None = None) -> tuple[dict[str, Any], str, str]:
        for ar in vn.extra["ars"]:
            if ar_filter is not None and ar["id"] != ar_filter:
                continue
            ip_first = tpl.vget(ar["attrs"], "IP")
            if not ip_first:
                continue
            base = ipaddress.IPv4Address(ip_first)
            for i in range(ar["size"]):
                ip = str(base + i)
                if ip not in ar["leases"]:
                    mac = "02:00:" + ":".join(
                        f"{b:02x}" for b in (base + i).packed
                    )  # MAC carries the IP, as oned does
                    ar["leases"][ip] = (mac, vm_id)
                    self.touch(vn)
                    return ar, ip, mac
        raise ActionError(f"Cannot get IP/MAC lease from virtual network {vn.id}.", vn.id)

    def _free_lease(self, vid: int, ip: str) -> None:
        vn = self.pools["vn"].get(vid)
        if vn is None:
            return
        for ar in vn.extra["ars"]:
            if ar["leases"].get(ip, ("", -1))[1] >= 0:
                del ar["leases"][ip]
                self.touch(vn)

    def vn_delete(self, vid: int) -> int:
        vn = self.get("vn", vid)
        if any(vm >= 0 for ar in vn.extra["ars"] for _, vm in ar["leases"].values()):
            raise ActionError("Can not remove a virtual network with leases in use.", vid)
        for cluster in self.pools["cluster"].values():
            if vid in cluster.extra["vnets"]:
                cluster.extra["vnets"].remove(vid)
                self.touch(cluster)
        self.drop(vn)
        return vid

    # --- images --------------------------------------------------------------------------------------------
    def image_allocate(self, text: str, ds_id: int) -> int:
        t = self.parse(text)
        name = tpl.get_str(t, "NAME")
        self.check_unique("image", name)
        ds = self.get("datastore", ds_id)
        if ds.extra["type"] == O.DS_SYSTEM:
            raise AllocateError(f"Error allocating a new image. Datastore {ds_id} is a system datastore.")
        path, size_s = tpl.get_str(t, "PATH"), tpl.get_str(t, "SIZE")
        kind = tpl.get_str(t, "TYPE", "OS").upper()
        types = {"OS": 0, "CDROM": 1, "DATABLOCK": 2, "KERNEL": 3, "RAMDISK": 4, "CONTEXT": 5}
        if kind not in types:
            raise AllocateError(f"Error allocating a new image. Unknown TYPE {kind}.")
        if not path and not size_s:
            raise AllocateError("Error allocating a new image. No PATH or SIZE in template.")
        size = int(size_s) if size_s else 2048
        if ds.extra["used_mb"] + size > ds.extra["total_mb"]:
            raise AllocateError(f"Error allocating a new image. Not enough space in datastore {ds_id}.")
        image = self._new(
            "image",
            name,
            tpl.remove(t, {"NAME"}),
            type=types[kind],
            persistent=1 if tpl.get_str(t, "PERSISTENT").upper() in ("YES", "1") else 0,
            path=path,
            format=tpl.get_str(t, "FORMAT", "raw"),
            size=size,
            state=O.IMG_LOCKED,
            datastore_id=ds_id,
            datastore=ds.name,
            vms=[],
        )
        image.lock = 4  # oned locks an image while its data is copied in
        ds.extra["images"].append(image.id)
        ds.extra["used_mb"] += size
        self.touch(ds)
        bw = self.timing.image_bandwidth_mb_s
        self.later(size / bw if bw > 0 else 0, "image", image.id, "image_ready")
        return image.id

    def image_delete(self, iid: int) -> int:
        image = self.get("image", iid)
        if image.extra["vms"]:
            raise ActionError(f"Cannot delete image {iid}: it is used by {len(image.extra['vms'])} VMs.", iid)
        ds = self.pools["datastore"].get(image.extra["datastore_id"])
        if ds is not None:
            ds.extra["images"].remove(iid)
            ds.extra["used_mb"] -= image.extra["size"]
            self.touch(ds)
        self.drop(image)
        return iid

    # --- templates and VMs ---------------------------------------------------------------------------------
    def template_allocate(self, text: str) -> int:
        t = self.parse(text)
        name = tpl.get_str(t, "NAME")
        self.check_unique("template", name)
        return self._new("template", name, t).id

    def template_clone(self, tid: int, name: str) -> int:
        src = self.get("template", tid)
        self.check_unique("template", name)
        return self._new("template", name, tpl.put(list(src.template), "NAME", name)).id

    def template_instantiate(self, tid: int, name: str, hold: bool, extra: str) -> int:
        src = self.get("template", tid)
        t = tpl.merge(src.template, self.parse(extra) if extra.strip() else [])
        t = tpl.put(t, "TEMPLATE_ID", str(tid))
        return self.vm_allocate_template(t, hold, name or f"{src.name}-{self.next_id['vm']}")

    def vm_allocate(self, text: str, hold: bool) -> int:
        t = self.parse(text)
        return self.vm_allocate_template(t, hold, tpl.get_str(t, "NAME"))

    def vm_allocate_template(self, t: Template, hold: bool, name: str) -> int:
        if not tpl.get_str(t, "MEMORY") or not tpl.get_str(t, "CPU"):
            raise AllocateError(
                "Error allocating a new virtual machine template. No MEMORY or CPU in template."
            )
        vm_id = self.next_id["vm"]
        name = name or f"one-{vm_id}"
        template: Template = []
        user: Template = []
        for k, v in t:
            if k == "NAME":
                continue
            (template if k in O.VM_TEMPLATE_KEYS else user).append((k, v))
        nics = []
        leased: list[tuple[Obj, str]] = []
        try:
            for i, nic in enumerate(tpl.vectors(template, "NIC")):
                nics.append(self._attach_nic(i, nic, vm_id, leased))
            disks = [self._attach_disk(i, d, vm_id) for i, d in enumerate(tpl.vectors(template, "DISK"))]
        except OneError:
            for vn, ip in leased:
                self._free_lease(vn.id, ip)
            raise
        template = (
            tpl.remove(template, {"NIC", "DISK"}) + [("DISK", d) for d in disks] + [("NIC", n) for n in nics]
        )
        template = tpl.put(template, "VMID", str(vm_id))
        if tpl.get(template, "TM_MAD_SYSTEM") is None:
            template.append(("TM_MAD_SYSTEM", "ssh"))
        token = ""
        context = tpl.get(template, "CONTEXT")
        if isinstance(context, list):
            context, token = self._context(context, nics, vm_id, len(disks))
            template = tpl.put(template, "CONTEXT", context)
        vm = self._new(
            "vm",
            name,
            template,
            state=O.VM_HOLD if hold else O.VM_PENDING,
            lcm_state=O.LCM_INIT,
            stime=int(time.time()),
            etime=0,
            deploy_id="",
            host_id=-1,
            hostname="",
            user_template=user,
            token=token,
        )
        for disk in disks:
            image = self.pools["image"].get(int(tpl.vget(disk, "IMAGE_ID", "-1")))
            if image is not None:
                image.extra["vms"].append(vm.id)
                image.extra["state"] = O.IMG_USED
                self.touch(image)
        return vm.id

    def _attach_nic(
        self, index: int, nic: tpl.Vector, vm_id: int, leased: list[tuple[Obj, str]]
    ) -> tpl.Vector:
        ref = tpl.vget(nic, "NETWORK_ID")
        vn = self.get("vn", int(ref)) if ref else self.by_name("vn", tpl.vget(nic, "NETWORK"))
        if vn is None:
            raise NoExists(f"Error getting virtual network [{tpl.vget(nic, 'NETWORK')}].")
        ar, ip, mac = self._lease(vn, vm_id)
        leased.append((vn, ip))
        cidr = tpl.vget(ar["attrs"], "NETWORK_ADDRESS") or tpl.get_str(vn.template, "NETWORK_ADDRESS")
        out = [(k, v) for k, v in nic if k not in ("NETWORK", "NETWORK_ID")]
        out += [
            ("AR_ID", str(ar["id"])),
            ("BRIDGE", vn.extra["bridge"]),
            ("BRIDGE_TYPE", "linux"),
            ("IP", ip),
            ("MAC", mac),
            ("NAME", f"NIC{index}"),
            ("NETWORK", vn.name),
            ("NETWORK_ID", str(vn.id)),
            ("NIC_ID", str(index)),
            ("SECURITY_GROUPS", tpl.get_str(vn.template, "SECURITY_GROUPS", "0")),
            ("TARGET", f"one-{vm_id}-{index}"),
            ("VN_MAD", vn.extra["vn_mad"]),
        ]
        for key in ("GATEWAY", "DNS", "NETWORK_MASK", "SEARCH_DOMAIN", "GUEST_MTU"):
            value = tpl.vget(ar["attrs"], key) or tpl.get_str(vn.template, key)
            if value:
                out.append((key, value))
        if cidr:
            out.append(("NETWORK_ADDRESS", cidr))
        return out

    def _attach_disk(self, index: int, disk: tpl.Vector, vm_id: int) -> tpl.Vector:
        ref = tpl.vget(disk, "IMAGE_ID")
        if not ref and not tpl.vget(disk, "IMAGE"):
            return [*disk, ("DISK_ID", str(index)), ("TARGET", f"vd{chr(97 + index)}")]
        image = self.get("image", int(ref)) if ref else self.by_name("image", tpl.vget(disk, "IMAGE"))
        if image is None:
            raise NoExists(f"Error getting image [{tpl.vget(disk, 'IMAGE')}].")
        if image.extra["state"] not in (O.IMG_READY, O.IMG_USED):
            raise AllocateError(f"Error allocating a new virtual machine. Image {image.id} is not READY.")
        out = [(k, v) for k, v in disk if k not in ("IMAGE", "IMAGE_ID")]
        return [
            *out,
            ("DATASTORE", image.extra["datastore"]),
            ("DATASTORE_ID", str(image.extra["datastore_id"])),
            ("DISK_ID", str(index)),
            ("DRIVER", image.extra["format"]),
            ("IMAGE", image.name),
            ("IMAGE_ID", str(image.id)),
            ("SIZE", str(image.extra["size"])),
            ("TARGET", f"vd{chr(97 + index)}"),
            ("TYPE", "FILE"),
        ]

    def _context(
        self, context: tpl.Vector, nics: list[tpl.Vector], vm_id: int, disks: int
    ) -> tuple[tpl.Vector, str]:
        """What oned adds to CONTEXT: ETHx_* from leases when NETWORK=YES, TOKEN's endpoint, DISK_ID, TARGET."""
        ctx = list(context)
        if tpl.vget(ctx, "NETWORK").upper() == "YES":
            for i, nic in enumerate(nics):
                mask = tpl.vget(nic, "NETWORK_MASK") or (
                    str(ipaddress.IPv4Network(tpl.vget(nic, "NETWORK_ADDRESS"), strict=False).netmask)
                    if "/" in tpl.vget(nic, "NETWORK_ADDRESS")
                    else "255.255.255.0"
                )
                ctx += [
                    (f"ETH{i}_IP", tpl.vget(nic, "IP")),
                    (f"ETH{i}_MAC", tpl.vget(nic, "MAC")),
                    (f"ETH{i}_MASK", mask),
                    (f"ETH{i}_NETWORK", tpl.vget(nic, "NETWORK_ADDRESS").split("/")[0]),
                    (f"ETH{i}_GATEWAY", tpl.vget(nic, "GATEWAY")),
                    (f"ETH{i}_DNS", tpl.vget(nic, "DNS")),
                    (f"ETH{i}_MTU", tpl.vget(nic, "GUEST_MTU")),
                ]
                ctx = [(k, v) for k, v in ctx if v != ""]  # oned writes only the attributes it has
        token = ""
        if tpl.vget(ctx, "TOKEN").upper() == "YES":
            token = secrets.token_hex(16)
            ctx.append(("ONEGATE_ENDPOINT", self.onegate_endpoint))
        ctx += [("VMID", str(vm_id)), ("DISK_ID", str(disks)), ("TARGET", "hda")]
        return ctx, token

    def vm_action(self, action: str, vid: int) -> int:
        vm = self.get("vm", vid)
        e = vm.extra
        state, lcm = e["state"], e["lcm_state"]
        self.check_unlocked(vm)
        if action in ("terminate", "terminate-hard", "delete"):
            if state == O.VM_DONE:
                raise ActionError(
                    f'Error performing action "{action}": This action is not available for state DONE.', vid
                )
            if state == O.VM_ACTIVE:
                e["lcm_state"] = O.LCM_SHUTDOWN if action == "terminate" else O.LCM_EPILOG
                self.later(self.timing.vm_step, "vm", vid, "vm_done")
            else:
                self._finish_vm(vm)
        elif action in ("poweroff", "poweroff-hard"):
            if not (state == O.VM_ACTIVE and lcm == O.LCM_RUNNING):
                raise ActionError(
                    f'Error performing action "{action}": This action is not available for state {state}/{lcm}.',
                    vid,
                )
            e["lcm_state"] = O.LCM_SHUTDOWN_POWEROFF
            self.later(self.timing.vm_step, "vm", vid, "vm_poweroff")
        elif action == "resume":
            if state not in (O.VM_POWEROFF, O.VM_STOPPED):
                raise ActionError(
                    f'Error performing action "resume": This action is not available for state {state}.', vid
                )
            e["state"], e["lcm_state"] = O.VM_ACTIVE, O.LCM_BOOT
            self.later(self.timing.vm_step, "vm", vid, "vm_running")
        elif action in ("reboot", "reboot-hard"):
            if not (state == O.VM_ACTIVE and lcm == O.LCM_RUNNING):
                raise ActionError(f'Error performing action "{action}": VM is not RUNNING.', vid)
        elif action == "hold":
            if state != O.VM_PENDING:
                raise ActionError('Error performing action "hold": VM is not PENDING.', vid)
            e["state"] = O.VM_HOLD
        elif action == "release":
            if state != O.VM_HOLD:
                raise ActionError('Error performing action "release": VM is not in HOLD.', vid)
            e["state"] = O.VM_PENDING
        else:
            raise ApiError(f"Unknown action {action!r}.", vid)
        self.touch(vm)
        return vid

    def vm_update(self, vid: int, text: str, merge: bool) -> int:
        vm = self.get("vm", vid)
        new = self.parse(text)
        ut = vm.extra["user_template"]
        vm.extra["user_template"] = tpl.merge(ut, new) if merge else new
        self.touch(vm)
        return vid

    def vm_updateconf(self, vid: int, text: str) -> int:
        vm = self.get("vm", vid)
        allowed = {
            "OS",
            "FEATURES",
            "INPUT",
            "GRAPHICS",
            "RAW",
            "CONTEXT",
            "CPU_MODEL",
            "BACKUP_CONFIG",
            "VIDEO",
        }
        new = [(k, v) for k, v in self.parse(text) if k in allowed]
        vm.template = tpl.merge(vm.template, new)
        self.touch(vm)
        return vid

    def vm_resize(self, vid: int, text: str) -> int:
        vm = self.get("vm", vid)
        if vm.extra["state"] not in (O.VM_POWEROFF, O.VM_PENDING, O.VM_HOLD, O.VM_STOPPED):
            raise ActionError(
                'Error performing action "resize": VM must be powered off, pending or on hold.', vid
            )
        new = [(k, v) for k, v in self.parse(text) if k in ("CPU", "VCPU", "MEMORY")]
        vm.template = tpl.merge(vm.template, new)
        self.touch(vm)
        return vid

    # --- OneGate -------------------------------------------------------------------------------------------
    def onegate_vm(self, vid: int, token: str) -> Obj:
        vm = self.pools["vm"].get(vid)
        if vm is None or not vm.extra.get("token") or not secrets.compare_digest(vm.extra["token"], token):
            raise AuthError("OneGate: invalid token or VM id.")
        return vm

    def onegate_token(self, vid: int) -> str:
        """What OpenNebula writes to the context CD as token.txt (used to build context images in tests)."""
        return str(self.get("vm", vid).extra.get("token", ""))
