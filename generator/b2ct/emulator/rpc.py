"""XML-RPC layer: authenticate, dispatch one.<family>.<action>, marshal, and wrap errors in oned's envelope."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from b2ct.emulator import objects as O
from b2ct.emulator import template as tpl
from b2ct.emulator.backend import ApiError, AuthError, Backend, OneError

Handler = Callable[..., Any]

# The XML-RPC family names are the backend's kinds; each pool is `<kind>pool` (one.vnpool.info, ...).
FAMILIES = set(Backend.KINDS)
POOL = {f"{kind}pool": kind for kind in Backend.KINDS}
VM_ACTIONS = {
    "terminate",
    "terminate-hard",
    "poweroff",
    "poweroff-hard",
    "resume",
    "reboot",
    "reboot-hard",
    "hold",
    "release",
    "delete",
}


class Api:
    """Turns XML-RPC calls into backend calls. Every method answers [True, value, 0] or oned's error list."""

    def __init__(self, backend: Backend, users: dict[str, str]) -> None:
        self.b = backend
        self.users = users
        self.calls: dict[str, int] = {}

    # --- entry point ---------------------------------------------------------------------------------------
    def dispatch(self, method: str, params: tuple[Any, ...]) -> list[Any]:
        self.calls[method] = self.calls.get(method, 0) + 1
        obj_id = params[1] if len(params) > 1 and isinstance(params[1], int) else -1
        try:
            if not params or not self._authenticated(params[0]):
                raise AuthError("User couldn't be authenticated, aborting call.")
            handler = self._handler(method)
            with self.b.lock:
                # Time moves at call boundaries: what became due before the call, and what the call made due.
                self.b.tick()
                try:
                    value = handler(*params[1:])
                    self.b.tick()
                finally:
                    self.b.commit()
            if value is None or value == "":
                raise RuntimeError(f"{method} produced no value")  # oned never answers an empty success
            return [True, value, 0]
        except OneError as exc:
            oid = exc.obj_id if isinstance(exc.obj_id, int) and exc.obj_id >= 0 else obj_id
            return [False, f"[{method}] {exc}", exc.code, oid]
        except TypeError as exc:
            return [False, f"[{method}] Wrong parameters: {exc}", ApiError.code, obj_id]

    def _authenticated(self, session: Any) -> bool:
        if not isinstance(session, str) or ":" not in session:
            return False
        user, _, password = session.partition(":")
        expected = self.users.get(user)
        return expected is not None and secrets.compare_digest(expected, password)

    def _handler(self, method: str) -> Handler:
        parts = method.split(".")
        if len(parts) != 3 or parts[0] != "one":
            raise ApiError(f"Method {method} not supported.")
        _, family, action = parts
        special = getattr(self, f"{family}_{action.replace('-', '_')}", None)
        if special is not None:
            return special
        if family in POOL and action in ("info", "infoextended"):
            return lambda *a: self.pool_info(POOL[family], *a)
        if family in FAMILIES:
            generic = getattr(self, f"generic_{action}", None)
            if generic is not None:
                return lambda *a: generic(family, *a)
        raise ApiError(f"Method {method} not supported by the B2CT emulator.")

    # --- generic methods (every object family) -------------------------------------------------------------
    def generic_info(self, kind: str, oid: int = -1, *_: Any) -> str:
        if kind == "user" and oid == -1:
            oid = 0
        return O.XML[kind](self.b.get(kind, oid))

    def generic_update(self, kind: str, oid: int, text: str, merge: int = 0) -> int:
        if kind == "vm":
            return self.b.vm_update(oid, text, bool(merge))
        obj = self.b.get(kind, oid)
        self.b.check_unlocked(obj)
        new = self.b.parse(text)
        obj.template = tpl.merge(obj.template, new) if merge else new
        self.b.touch(obj)
        return oid

    def generic_rename(self, kind: str, oid: int, name: str) -> int:
        obj = self.b.get(kind, oid)
        clash = self.b.by_name(kind, name)
        if clash is not None and clash.id != oid and kind != "vm":
            raise OneError(
                f"Cannot rename to {name}: NAME is already taken by {kind.upper()} {clash.id}.", oid
            )
        obj.name = name
        self.b.touch(obj)
        return oid

    def generic_chmod(self, kind: str, oid: int, *bits: int) -> int:
        obj = self.b.get(kind, oid)
        obj.perms = [
            old if new == -1 else int(new) for old, new in zip(obj.perms, bits[:9], strict=False)
        ] + obj.perms[len(bits[:9]) :]
        self.b.touch(obj)
        return oid

    def generic_chown(self, kind: str, oid: int, uid: int = -1, gid: int = -1) -> int:
        obj = self.b.get(kind, oid)
        if uid >= 0:
            obj.uid, obj.uname = uid, self.b.get("user", uid).name
        if gid >= 0:
            obj.gid, obj.gname = gid, self.b.get("group", gid).name
        self.b.touch(obj)
        return oid

    def generic_lock(self, kind: str, oid: int, level: int = 4, *_: Any) -> int:
        obj = self.b.get(kind, oid)
        obj.lock, obj.regtime = level, int(time.time())
        self.b.touch(obj)
        return oid

    def generic_unlock(self, kind: str, oid: int) -> int:
        obj = self.b.get(kind, oid)
        obj.lock = None
        self.b.touch(obj)
        return oid

    def generic_delete(self, kind: str, oid: int, *_: Any) -> int:
        deleters = {
            "cluster": self.b.cluster_delete,
            "host": self.b.host_delete,
            "datastore": self.b.datastore_delete,
            "image": self.b.image_delete,
            "vn": self.b.vn_delete,
            "secgroup": self.b.secgroup_delete,
        }
        if kind == "template":
            obj = self.b.get("template", oid)
            self.b.check_unlocked(obj)
            self.b.drop(obj)
            return oid
        if kind not in deleters:
            raise ApiError(f"delete is not supported for {kind}")
        self.b.check_unlocked(self.b.get(kind, oid))
        return deleters[kind](oid)

    def pool_info(
        self, kind: str, filter_flag: int = -2, start: int = -1, end: int = -1, state: int = -1, *_: Any
    ) -> str:
        items = sorted(self.b.pools[kind].values(), key=lambda o: o.id)
        if start >= 0:
            items = [o for o in items if o.id >= start]
        if end >= 0:
            items = [o for o in items if o.id <= end]
        if filter_flag >= 0:
            items = [o for o in items if o.uid == filter_flag]
        if kind == "vm":
            if state == -1:
                items = [o for o in items if o.extra["state"] != O.VM_DONE]
            elif state >= 0:
                items = [o for o in items if o.extra["state"] == state]
        tag = O.POOL_TAG[kind]
        render = (lambda o: O.vnet_xml(o, pool=True)) if kind == "vn" else O.XML[kind]
        body = "".join(render(o) for o in items)
        return f"<{tag}>{body}</{tag}>"

    # --- system --------------------------------------------------------------------------------------------
    def system_version(self) -> str:
        return self.b.version

    def system_config(self) -> str:
        return (
            "<OPENNEBULA_CONFIGURATION><VERSION>" + self.b.version + "</VERSION>"
            f"<ONEGATE_ENDPOINT>{self.b.onegate_endpoint}</ONEGATE_ENDPOINT><PORT>2633</PORT>"
            "<DEFAULT_DEVICE_PREFIX>vd</DEFAULT_DEVICE_PREFIX></OPENNEBULA_CONFIGURATION>"
        )

    # --- per-family methods --------------------------------------------------------------------------------
    def cluster_allocate(self, name: str) -> int:
        return self.b.cluster_allocate(name)

    def cluster_addhost(self, cid: int, oid: int) -> int:
        return self.b.cluster_member(cid, "host", oid, True)

    def cluster_delhost(self, cid: int, oid: int) -> int:
        return self.b.cluster_member(cid, "host", oid, False)

    def cluster_adddatastore(self, cid: int, oid: int) -> int:
        return self.b.cluster_member(cid, "datastore", oid, True)

    def cluster_deldatastore(self, cid: int, oid: int) -> int:
        return self.b.cluster_member(cid, "datastore", oid, False)

    def cluster_addvnet(self, cid: int, oid: int) -> int:
        return self.b.cluster_member(cid, "vn", oid, True)

    def cluster_delvnet(self, cid: int, oid: int) -> int:
        return self.b.cluster_member(cid, "vn", oid, False)

    def host_allocate(self, name: str, im_mad: str, vm_mad: str, cluster_id: int = -1, *_: Any) -> int:
        return self.b.host_allocate(name, im_mad, vm_mad, cluster_id)

    def host_status(self, hid: int, status: int) -> int:
        return self.b.host_status(hid, status)

    def host_enable(self, hid: int, enable: bool) -> int:
        return self.b.host_status(hid, 0 if enable else 1)

    def datastore_allocate(self, text: str, cluster_id: int = -1) -> int:
        return self.b.datastore_allocate(text, cluster_id)

    def datastore_enable(self, did: int, enable: bool) -> int:
        ds = self.b.get("datastore", did)
        ds.extra["state"] = 0 if enable else 1
        self.b.touch(ds)
        return did

    def secgroup_allocate(self, text: str) -> int:
        return self.b.secgroup_allocate(text)

    def secgroup_commit(self, sid: int, *_: Any) -> int:
        self.b.get("secgroup", sid)
        return sid

    def vn_allocate(self, text: str, cluster_id: int = -1) -> int:
        return self.b.vn_allocate(text, cluster_id)

    def vn_add_ar(self, vid: int, text: str) -> int:
        return self.b.vn_add_ar(vid, text)

    def vn_update_ar(self, vid: int, text: str, *_: Any) -> int:
        return self.b.vn_update_ar(vid, text)

    def vn_rm_ar(self, vid: int, ar_id: int, *_: Any) -> int:
        return self.b.vn_rm_ar(vid, ar_id)

    def vn_free_ar(self, vid: int, ar_id: int) -> int:
        return self.b.vn_free_ar(vid, ar_id)

    def vn_hold(self, vid: int, text: str) -> int:
        return self.b.vn_hold(vid, text, True)

    def vn_release(self, vid: int, text: str) -> int:
        return self.b.vn_hold(vid, text, False)

    def image_allocate(self, text: str, ds_id: int, *_: Any) -> int:
        return self.b.image_allocate(text, ds_id)

    def image_persistent(self, iid: int, persistent: bool) -> int:
        image = self.b.get("image", iid)
        if image.extra["vms"]:
            raise OneError(f"Cannot change persistent flag of image {iid}: it is in use.", iid)
        image.extra["persistent"] = 1 if persistent else 0
        self.b.touch(image)
        return iid

    def image_chtype(self, iid: int, kind: str) -> int:
        types = {"OS": 0, "CDROM": 1, "DATABLOCK": 2, "KERNEL": 3, "RAMDISK": 4, "CONTEXT": 5}
        image = self.b.get("image", iid)
        if kind.upper() not in types:
            raise OneError(f"Unknown image type {kind}.", iid)
        image.extra["type"] = types[kind.upper()]
        self.b.touch(image)
        return iid

    def image_enable(self, iid: int, enable: bool) -> int:
        image = self.b.get("image", iid)
        image.extra["state"] = 1 if enable else 3
        self.b.touch(image)
        return iid

    def template_allocate(self, text: str) -> int:
        return self.b.template_allocate(text)

    def template_info(self, tid: int, *_: Any) -> str:
        return O.template_xml(self.b.get("template", tid))

    def template_clone(self, tid: int, name: str, *_: Any) -> int:
        return self.b.template_clone(tid, name)

    def template_instantiate(
        self, tid: int, name: str = "", hold: bool = False, extra: str = "", *_: Any
    ) -> int:
        return self.b.template_instantiate(tid, name, bool(hold), extra)

    def vm_allocate(self, text: str, hold: bool = False) -> int:
        return self.b.vm_allocate(text, bool(hold))

    def vm_action(self, action: str, vid: int | str) -> int:
        # DIRAC's driver sends libcloud's node id, a decimal string; oned's handling of that is unverified here.
        if isinstance(vid, str) and vid.isdigit():
            vid = int(vid)
        if not isinstance(vid, int):
            raise ApiError(f"Wrong type for the VM id: {vid!r}.")
        if action not in VM_ACTIONS:
            raise ApiError(f"Action {action!r} is not supported by the B2CT emulator.", vid)
        return self.b.vm_action(action, vid)

    def vm_updateconf(self, vid: int, text: str, *_: Any) -> int:
        return self.b.vm_updateconf(vid, text)

    def vm_resize(self, vid: int, text: str, *_: Any) -> int:
        return self.b.vm_resize(vid, text)

    def user_info(self, uid: int = -1, *_: Any) -> str:
        return O.user_xml(self.b.get("user", 0 if uid == -1 else uid))

    def group_info(self, gid: int = -1, *_: Any) -> str:
        return O.group_xml(self.b.get("group", 0 if gid == -1 else gid))
