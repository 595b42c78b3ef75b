"""The emulator's objects: plain data, their state numbers, and their XML as oned writes it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from b2ct.emulator import template as tpl
from b2ct.emulator.template import Template

# State numbers as in OpenNebula's API (and pyone's constants).
VM_PENDING, VM_HOLD, VM_ACTIVE, VM_STOPPED, VM_DONE, VM_POWEROFF = 1, 2, 3, 4, 6, 8
LCM_INIT, LCM_PROLOG, LCM_BOOT, LCM_RUNNING, LCM_EPILOG, LCM_SHUTDOWN, LCM_SHUTDOWN_POWEROFF = (
    0,
    1,
    2,
    3,
    11,
    12,
    18,
)
IMG_READY, IMG_USED, IMG_LOCKED, IMG_ERROR = 1, 2, 4, 5
VN_READY, VN_LOCK_CREATE = 1, 2
HOST_INIT, HOST_MONITORED, HOST_ERROR, HOST_DISABLED, HOST_OFFLINE = 0, 2, 3, 4, 8
DS_IMAGE, DS_SYSTEM, DS_FILE = 0, 1, 2

# Well-known VM attributes oned moves from the user's template into TEMPLATE; everything else is USER_TEMPLATE.
VM_TEMPLATE_KEYS = {
    "CPU",
    "VCPU",
    "MEMORY",
    "MEMORY_MAX",
    "MEMORY_SLOTS",
    "MEMORY_RESIZE_MODE",
    "CPU_COST",
    "MEMORY_COST",
    "DISK_COST",
    "EMULATOR",
    "TEMPLATE_ID",
    "VMID",
    "DISK",
    "NIC",
    "NIC_ALIAS",
    "CONTEXT",
    "OS",
    "GRAPHICS",
    "VIDEO",
    "FEATURES",
    "CPU_MODEL",
    "PCI",
    "INPUT",
    "RAW",
    "TOPOLOGY",
    "NUMA_NODE",
    "SECURITY_GROUP_RULE",
    "AUTOMATIC_REQUIREMENTS",
    "AUTOMATIC_DS_REQUIREMENTS",
    "AUTOMATIC_NIC_REQUIREMENTS",
    "HYPERV_OPTIONS",
    "SPICE_OPTIONS",
    "CLONING_TEMPLATE_ID",
    "SCHED_ACTION",
    "SNAPSHOT",
    "TM_MAD_SYSTEM",
    "IMPORTED",
    "TPM",
    "NIC_DEFAULT",
    "VCPU_MAX",
    "VMGROUP",
    "SUBMIT_ON_HOLD",
    "QEMU_GA_EXEC",
    "MEMORY_ENCRYPTION",
}


@dataclass
class Obj:
    """Fields every OpenNebula object has."""

    kind: str
    id: int
    name: str
    template: Template = field(default_factory=list)
    uid: int = 0
    gid: int = 0
    uname: str = "oneadmin"
    gname: str = "oneadmin"
    perms: list[int] = field(default_factory=lambda: [1, 1, 0, 0, 0, 0, 0, 0, 0])
    lock: int | None = None
    regtime: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def head(self) -> str:
        return (
            f"<ID>{self.id}</ID><UID>{self.uid}</UID><GID>{self.gid}</GID><UNAME>{self.uname}</UNAME>"
            f"<GNAME>{self.gname}</GNAME><NAME>{_esc(self.name)}</NAME>"
        )

    def lock_xml(self) -> str:
        if self.lock is None:
            return ""
        return f"<LOCK><LOCKED>{self.lock}</LOCKED><OWNER>{self.uid}</OWNER><TIME>{self.regtime}</TIME><REQ_ID>-1</REQ_ID></LOCK>"

    def perms_xml(self) -> str:
        names = [
            "OWNER_U",
            "OWNER_M",
            "OWNER_A",
            "GROUP_U",
            "GROUP_M",
            "GROUP_A",
            "OTHER_U",
            "OTHER_M",
            "OTHER_A",
        ]
        return (
            "<PERMISSIONS>"
            + "".join(f"<{n}>{v}</{n}>" for n, v in zip(names, self.perms, strict=True))
            + "</PERMISSIONS>"
        )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ids(tag: str, ids: list[int]) -> str:
    return f"<{tag}>" + "".join(f"<ID>{i}</ID>" for i in sorted(ids)) + f"</{tag}>"


def user_xml(o: Obj) -> str:
    return (
        f"<USER><ID>{o.id}</ID><GID>{o.gid}</GID><GROUPS><ID>{o.gid}</ID></GROUPS><GNAME>{o.gname}</GNAME>"
        f"<NAME>{o.name}</NAME><PASSWORD>-</PASSWORD><AUTH_DRIVER>core</AUTH_DRIVER><ENABLED>1</ENABLED>"
        f"{tpl.to_xml('TEMPLATE', o.template)}<DATASTORE_QUOTA/><NETWORK_QUOTA/><VM_QUOTA/><IMAGE_QUOTA/>"
        f"<DEFAULT_USER_QUOTAS/></USER>"
    )


def group_xml(o: Obj) -> str:
    return (
        f"<GROUP><ID>{o.id}</ID><NAME>{o.name}</NAME>{tpl.to_xml('TEMPLATE', o.template)}"
        f"{_ids('USERS', o.extra['users'])}<ADMINS/>"
        f"<DATASTORE_QUOTA/><NETWORK_QUOTA/><VM_QUOTA/><IMAGE_QUOTA/><VLAN_RULES><ID>{o.id}</ID></VLAN_RULES><DEFAULT_GROUP_QUOTAS/></GROUP>"
    )


def cluster_xml(o: Obj) -> str:
    e = o.extra
    return (
        f"<CLUSTER><ID>{o.id}</ID><NAME>{_esc(o.name)}</NAME>{_ids('HOSTS', e['hosts'])}"
        f"{_ids('DATASTORES', e['datastores'])}{_ids('VNETS', e['vnets'])}{tpl.to_xml('TEMPLATE', o.template)}</CLUSTER>"
    )


def host_xml(o: Obj) -> str:
    e = o.extra
    share = (
        f"<HOST_SHARE><MEM_USAGE>{e['mem_used']}</MEM_USAGE><CPU_USAGE>{e['cpu_used']}</CPU_USAGE>"
        f"<TOTAL_MEM>{e['total_mem']}</TOTAL_MEM><TOTAL_CPU>{e['total_cpu']}</TOTAL_CPU>"
        f"<MAX_MEM>{e['total_mem']}</MAX_MEM><MAX_CPU>{e['total_cpu']}</MAX_CPU>"
        f"<RUNNING_VMS>{len(e['vms'])}</RUNNING_VMS><VMS_THREAD>1</VMS_THREAD>"
        f"<DATASTORES><DISK_USAGE>0</DISK_USAGE><FREE_DISK>{e['free_disk']}</FREE_DISK>"
        f"<MAX_DISK>{e['free_disk']}</MAX_DISK><USED_DISK>0</USED_DISK></DATASTORES>"
        f"<PCI_DEVICES/><NUMA_NODES/></HOST_SHARE>"
    )
    return (
        f"<HOST><ID>{o.id}</ID><NAME>{_esc(o.name)}</NAME><STATE>{e['state']}</STATE><PREV_STATE>{e['state']}</PREV_STATE>"
        f"<IM_MAD>{e['im_mad']}</IM_MAD><VM_MAD>{e['vm_mad']}</VM_MAD><CLUSTER_ID>{e['cluster_id']}</CLUSTER_ID>"
        f"<CLUSTER>{_esc(e['cluster'])}</CLUSTER>{share}{_ids('VMS', e['vms'])}"
        f"{tpl.to_xml('TEMPLATE', o.template)}<MONITORING/></HOST>"
    )


def datastore_xml(o: Obj) -> str:
    e = o.extra
    return (
        f"<DATASTORE>{o.head()}{o.perms_xml()}<DS_MAD>{e['ds_mad']}</DS_MAD><TM_MAD>{e['tm_mad']}</TM_MAD>"
        f"<BASE_PATH>/var/lib/one//datastores/{o.id}</BASE_PATH><TYPE>{e['type']}</TYPE><DISK_TYPE>0</DISK_TYPE>"
        f"<STATE>{e['state']}</STATE>{_ids('CLUSTERS', e['clusters'])}<TOTAL_MB>{e['total_mb']}</TOTAL_MB>"
        f"<FREE_MB>{e['total_mb'] - e['used_mb']}</FREE_MB><USED_MB>{e['used_mb']}</USED_MB>"
        f"{_ids('IMAGES', e['images'])}{tpl.to_xml('TEMPLATE', o.template)}</DATASTORE>"
    )


def image_xml(o: Obj) -> str:
    e = o.extra
    return (
        f"<IMAGE>{o.head()}{o.lock_xml()}{o.perms_xml()}<TYPE>{e['type']}</TYPE><DISK_TYPE>0</DISK_TYPE>"
        f"<PERSISTENT>{e['persistent']}</PERSISTENT><REGTIME>{o.regtime}</REGTIME><MODTIME>{o.regtime}</MODTIME>"
        f"<SOURCE>/var/lib/one/datastores/{e['datastore_id']}/{o.id}</SOURCE><PATH>{_esc(e['path'])}</PATH>"
        f"<FORMAT>{e['format']}</FORMAT><FS></FS><SIZE>{e['size']}</SIZE><STATE>{e['state']}</STATE>"
        f"<PREV_STATE>{e['state']}</PREV_STATE><RUNNING_VMS>{len(e['vms'])}</RUNNING_VMS><CLONING_OPS>0</CLONING_OPS>"
        f"<CLONING_ID>-1</CLONING_ID><TARGET_SNAPSHOT>-1</TARGET_SNAPSHOT><DATASTORE_ID>{e['datastore_id']}</DATASTORE_ID>"
        f"<DATASTORE>{_esc(e['datastore'])}</DATASTORE>{_ids('VMS', e['vms'])}<CLONES/><APP_CLONES/>"
        f"{tpl.to_xml('TEMPLATE', o.template)}<SNAPSHOTS><ALLOW_ORPHANS>NO</ALLOW_ORPHANS><CURRENT_BASE>-1</CURRENT_BASE>"
        f"<NEXT_SNAPSHOT>0</NEXT_SNAPSHOT></SNAPSHOTS><BACKUP_INCREMENTS/></IMAGE>"
    )


def vnet_xml(o: Obj, pool: bool = False) -> str:
    e = o.extra
    ars = "".join(_ar_xml(ar, pool) for ar in e["ars"])
    vlan = f"<VLAN_ID>{_esc(e['vlan_id'])}</VLAN_ID>" if e["vlan_id"] else ""
    return (
        f"<VNET>{o.head()}{o.lock_xml()}{o.perms_xml()}{_ids('CLUSTERS', e['clusters'])}<BRIDGE>{_esc(e['bridge'])}</BRIDGE>"
        f"<BRIDGE_TYPE>linux</BRIDGE_TYPE><STATE>{e['state']}</STATE><PREV_STATE>0</PREV_STATE>"
        f"<PARENT_NETWORK_ID></PARENT_NETWORK_ID><TEMPLATE_ID>-1</TEMPLATE_ID><VN_MAD>{_esc(e['vn_mad'])}</VN_MAD>"
        f"<PHYDEV>{_esc(e['phydev'])}</PHYDEV>{vlan}<OUTER_VLAN_ID></OUTER_VLAN_ID><VLAN_ID_AUTOMATIC>0</VLAN_ID_AUTOMATIC>"
        f"<OUTER_VLAN_ID_AUTOMATIC>0</OUTER_VLAN_ID_AUTOMATIC><USED_LEASES>{sum(len(a['leases']) for a in e['ars'])}</USED_LEASES>"
        f"<VROUTERS/><UPDATED_VMS/><OUTDATED_VMS/><UPDATING_VMS/><ERROR_VMS/>"
        f"{tpl.to_xml('TEMPLATE', o.template)}<AR_POOL>{ars}</AR_POOL></VNET>"
    )


# The AR elements oned writes, in the schema's order; other AR attributes (GATEWAY, DNS...) stay internal.
_AR_ORDER = [
    "IP",
    "MAC",
    "NEXT_INDEX",
    "PARENT_NETWORK_AR_ID",
    "SHARED",
    "SIZE",
    "TYPE",
    "VLAN_ID",
    "ULA_PREFIX",
    "VN_MAD",
    "MAC_END",
    "IP_END",
]


def _ar_xml(ar: dict[str, Any], pool: bool = False) -> str:
    """The pool listing carries a shorter AR (no end addresses, no leases), as oned's pool schema says."""
    attrs = dict(ar["attrs"])
    values = {**attrs, "NEXT_INDEX": "0", "SIZE": str(ar["size"])}
    if attrs.get("IP"):
        values["IP_END"] = str(ipaddress.IPv4Address(attrs["IP"]) + ar["size"] - 1)
    order = _AR_ORDER[: _AR_ORDER.index("VN_MAD") + 1] if pool else _AR_ORDER
    body = "".join(f"<{k}>{_esc(str(values[k]))}</{k}>" for k in order if values.get(k, "") != "")
    if pool:
        return f"<AR><AR_ID>{ar['id']}</AR_ID>{body}</AR>"
    leases = "".join(
        f"<LEASE><IP>{ip}</IP><MAC>{mac}</MAC><VM>{vm}</VM></LEASE>"
        for ip, (mac, vm) in sorted(ar["leases"].items())
    )
    return (
        f"<AR><AR_ID>{ar['id']}</AR_ID>{body}<USED_LEASES>{len(ar['leases'])}</USED_LEASES>"
        f"<LEASES>{leases}</LEASES></AR>"
    )


def template_xml(o: Obj) -> str:
    return f"<VMTEMPLATE>{o.head()}{o.lock_xml()}{o.perms_xml()}<REGTIME>{o.regtime}</REGTIME>{tpl.to_xml('TEMPLATE', o.template)}</VMTEMPLATE>"


def secgroup_xml(o: Obj) -> str:
    return (
        f"<SECURITY_GROUP>{o.head()}{o.perms_xml()}{_ids('UPDATED_VMS', o.extra['vms'])}<OUTDATED_VMS/><UPDATING_VMS/>"
        f"<ERROR_VMS/>{tpl.to_xml('TEMPLATE', o.template)}</SECURITY_GROUP>"
    )


def vm_xml(o: Obj) -> str:
    e = o.extra
    history = ""
    if e["host_id"] >= 0:
        history = (
            f"<HISTORY><OID>{o.id}</OID><SEQ>0</SEQ><HOSTNAME>{_esc(e['hostname'])}</HOSTNAME><HID>{e['host_id']}</HID>"
            f"<CID>0</CID><STIME>{e['stime']}</STIME><ETIME>{e['etime']}</ETIME><VM_MAD>kvm</VM_MAD><TM_MAD>ssh</TM_MAD>"
            f"<DS_ID>0</DS_ID><PLAN_ID>-1</PLAN_ID><ACTION_ID>-1</ACTION_ID><PSTIME>0</PSTIME><PETIME>0</PETIME><RSTIME>0</RSTIME><RETIME>0</RETIME><ESTIME>0</ESTIME>"
            f"<EETIME>0</EETIME><ACTION>0</ACTION><UID>-1</UID><GID>-1</GID><REQUEST_ID>-1</REQUEST_ID></HISTORY>"
        )
    return (
        f"<VM>{o.head()}{o.perms_xml()}<LAST_POLL>0</LAST_POLL><STATE>{e['state']}</STATE><LCM_STATE>{e['lcm_state']}</LCM_STATE>"
        f"<PREV_STATE>{e['state']}</PREV_STATE><PREV_LCM_STATE>{e['lcm_state']}</PREV_LCM_STATE><RESCHED>0</RESCHED>"
        f"<STIME>{e['stime']}</STIME><ETIME>{e['etime']}</ETIME><DEPLOY_ID>{e['deploy_id']}</DEPLOY_ID>{o.lock_xml()}"
        f"<MONITORING/><SCHED_ACTIONS/>{tpl.to_xml('TEMPLATE', _vm_order(o.template))}{tpl.to_xml('USER_TEMPLATE', e['user_template'])}"
        f"<HISTORY_RECORDS>{history}</HISTORY_RECORDS><BACKUPS><BACKUP_CONFIG/><BACKUP_IDS/></BACKUPS></VM>"
    )


# oned writes a VM's TEMPLATE in this order (vm.xsd); anything unknown goes last.
VM_TEMPLATE_ORDER = [
    "AUTOMATIC_DS_REQUIREMENTS",
    "AUTOMATIC_NIC_REQUIREMENTS",
    "AUTOMATIC_REQUIREMENTS",
    "CLONING_TEMPLATE_ID",
    "CONTEXT",
    "CPU",
    "CPU_COST",
    "DISK",
    "DISK_COST",
    "EMULATOR",
    "FEATURES",
    "HYPERV_OPTIONS",
    "GRAPHICS",
    "VIDEO",
    "IMPORTED",
    "INPUT",
    "MEMORY",
    "MEMORY_COST",
    "MEMORY_MAX",
    "MEMORY_SLOTS",
    "MEMORY_RESIZE_MODE",
    "NIC",
    "NIC_ALIAS",
    "NIC_DEFAULT",
    "NUMA_NODE",
    "OS",
    "PCI",
    "QEMU_GA_EXEC",
    "RAW",
    "SECURITY_GROUP_RULE",
    "SNAPSHOT",
    "SPICE_OPTIONS",
    "SUBMIT_ON_HOLD",
    "TEMPLATE_ID",
    "TM_MAD_SYSTEM",
    "TOPOLOGY",
    "TPM",
    "MEMORY_ENCRYPTION",
    "VCPU",
    "VCPU_MAX",
    "VMGROUP",
    "VMID",
    "VROUTER_ID",
    "VROUTER_KEEPALIVED_ID",
    "VROUTER_KEEPALIVED_PASSWORD",
    "SCHED_ACTION",
]
_VM_RANK = {k: i for i, k in enumerate(VM_TEMPLATE_ORDER)}


def _vm_order(t: Template) -> Template:
    return sorted(t, key=lambda kv: _VM_RANK.get(kv[0], len(_VM_RANK)))


XML = {
    "user": user_xml,
    "group": group_xml,
    "cluster": cluster_xml,
    "host": host_xml,
    "datastore": datastore_xml,
    "image": image_xml,
    "vn": vnet_xml,
    "template": template_xml,
    "secgroup": secgroup_xml,
    "vm": vm_xml,
}
POOL_TAG = {
    "user": "USER_POOL",
    "group": "GROUP_POOL",
    "cluster": "CLUSTER_POOL",
    "host": "HOST_POOL",
    "datastore": "DATASTORE_POOL",
    "image": "IMAGE_POOL",
    "vn": "VNET_POOL",
    "template": "VMTEMPLATE_POOL",
    "secgroup": "SECURITY_GROUP_POOL",
    "vm": "VM_POOL",
}
NOUN = {
    "user": "user",
    "group": "group",
    "cluster": "cluster",
    "host": "host",
    "datastore": "datastore",
    "image": "image",
    "vn": "virtual network",
    "template": "template",
    "secgroup": "security group",
    "vm": "virtual machine",
}
