"""Fill an emulator with what a site's host installation and `make apply` would create, through pyone.

For the demo and tests only: on a real front-end the hosts register themselves at first boot and Terraform
declares the rest. Names come from b2ct.names, as for every other part of B2CT.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import partial

import pyone

from b2ct import names
from b2ct.site import SiteModel
from b2ct.site.model import ASK, Network

DS_MAD = {"ssh": "fs", "shared": "fs", "qcow2": "fs", "ceph": "ceph"}


def seed(site: SiteModel, one: pyone.OneServer) -> dict[str, int]:
    """Create what is missing: hosts, datastores, networks, the worker image and template; IDs by name.

    Running it again changes nothing; a datastore that exists by name (OpenNebula ships one called system)
    is updated in place, as Terraform would adopt it.
    """
    existing = {
        "host": {h.NAME: h.ID for h in one.hostpool.info().HOST},
        "datastore": {d.NAME: d.ID for d in one.datastorepool.info().DATASTORE},
        "vn": {v.NAME: v.ID for v in one.vnpool.info(-2, -1, -1).VNET},
        "image": {i.NAME: i.ID for i in one.imagepool.info(-2, -1, -1).IMAGE},
        "template": {t.NAME: t.ID for t in one.templatepool.info(-2, -1, -1).VMTEMPLATE},
    }
    ids: dict[str, int] = {}

    def ensure(kind: str, name: str, create: Callable[[], int]) -> int:
        ids[name] = existing[kind][name] if name in existing[kind] else create()
        return ids[name]

    for host in site.hosts:
        if host.kvm and host.name != ASK:
            ensure("host", host.name, partial(one.host.allocate, host.name, "kvm", "kvm", -1))
    for kind, ds in (("IMAGE_DS", site.datastores.image), ("SYSTEM_DS", site.datastores.system)):
        text = f'TYPE="{kind}"\nTM_MAD="{ds.transfer}"' + (
            f'\nDS_MAD="{DS_MAD[ds.transfer]}"' if kind == "IMAGE_DS" else ""
        )
        if ds.name in existing["datastore"]:
            one.datastore.update(existing["datastore"][ds.name], text, 1)
        ensure("datastore", ds.name, partial(one.datastore.allocate, f'NAME="{ds.name}"\n{text}', -1))
    for net in site.networks:
        if net.name in names.vm_networks(site):
            ensure("vn", net.name, partial(one.vn.allocate, _vnet(net), -1))
    image = names.worker_image(site)
    image_ds = ids[site.datastores.image.name]
    ensure("image", image, lambda: one.image.allocate(
        f'NAME="{image}"\nTYPE="OS"\nFORMAT="qcow2"\nPATH="/var/tmp/{image}.qcow2"\n'
        f'SIZE="{site.worker.disk_gb * 1024}"', image_ds, False))  # fmt: skip
    w = site.worker
    private = next(n.name for n in site.networks if n.purpose == "private")
    template = names.worker_template(site)
    ensure("template", template, lambda: one.template.allocate(
        f'NAME="{template}"\nCPU="{w.cpu:g}"\nVCPU="{w.vcpu}"\nMEMORY="{w.memory_mb}"\n'
        f'DISK=[IMAGE="{image}"]\nNIC=[NETWORK="{private}"]\nGRAPHICS=[TYPE="VNC", LISTEN="0.0.0.0"]\n'
        'CONTEXT=[NETWORK="YES", TOKEN="YES"]'))  # fmt: skip
    return ids


def _vnet(net: Network) -> str:
    cidr = ipaddress.IPv4Network(net.cidr)
    lines = [f'NAME="{net.name}"', 'VN_MAD="bridge"', f'BRIDGE="{net.bridge}"', f'PHYDEV="{net.device}"',
             f'NETWORK_ADDRESS="{cidr.network_address}"', f'NETWORK_MASK="{cidr.netmask}"']  # fmt: skip
    if net.gateway:
        lines.append(f'GATEWAY="{net.gateway}"')
    if net.dns:
        lines.append(f'DNS="{" ".join(net.dns)}"')
    if net.vlan:
        lines.append(f'VLAN_ID="{net.vlan}"')
    lines += [f'AR=[TYPE="IP4", IP="{r.start}", SIZE="{r.size}"]' for r in net.ranges]
    return "\n".join(lines)
