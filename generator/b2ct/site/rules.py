"""Rules that span several fields of a site. Each returns problems located at the field to fix."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import urlsplit

from b2ct.site.model import ASK, ONED_PORT, SiteModel


class Problem(NamedTuple):
    path: str
    message: str


def check_site(site: SiteModel) -> list[Problem]:
    problems: list[Problem] = []
    for rule in (_endpoint, _hosts, _networks, _ranges, _datastores, _squid, _worker):
        problems.extend(rule(site))
    return problems


def _duplicates(values: list[tuple[str, str]]) -> Iterator[Problem]:
    """values: (path, value); report every repeat at its own path."""
    seen: dict[str, str] = {}
    for path, value in values:
        if value in seen:
            yield Problem(path, f"{value} is already used at {seen[value]}")
        else:
            seen[value] = path


def _endpoint(site: SiteModel) -> Iterator[Problem]:
    # oned keeps its plain-HTTP port 2633 on loopback; the front-end's TLS proxy needs a port of its own.
    url = urlsplit(site.opennebula.endpoint)
    if url.scheme == "https" and url.port == ONED_PORT:
        yield Problem(
            "opennebula.endpoint",
            f"port {ONED_PORT} is oned's own plain XML-RPC port; the TLS proxy listens elsewhere "
            f"(443 when no port is given): use https://{url.hostname}{url.path}",
        )


def _hosts(site: SiteModel) -> Iterator[Problem]:
    frontends = [i for i, h in enumerate(site.hosts) if h.role == "frontend"]
    if len(frontends) != 1:
        where = ", ".join(f"hosts[{i}]" for i in frontends) or "none"
        yield Problem("hosts", f"exactly one host must have role frontend (found {len(frontends)}: {where})")
    network_names = {n.name for n in site.networks}
    for i, host in enumerate(site.hosts):
        if host.role == "frontend":
            # Nodes learn the front-end's name and address from the kickstart: the installer cannot ask them.
            for field in ("name", "address"):
                if getattr(host, field) == ASK:
                    yield Problem(f"hosts[{i}].{field}", "`ask` is not allowed for the front-end")
        for j, iface in enumerate(host.interfaces):
            if iface.name is None and iface.mac is None:
                yield Problem(f"hosts[{i}].interfaces[{j}]", "give a name or a mac to identify the interface")
            if iface.network not in network_names:
                yield Problem(
                    f"hosts[{i}].interfaces[{j}].network",
                    f"{iface.network} is not a network of this site (known: {', '.join(sorted(network_names))})",  # noqa: E501
                )
        if host.address != ASK:
            service = [n for n in site.networks if n.purpose == "service"]
            if service and not any(
                ipaddress.IPv4Address(host.address) in ipaddress.IPv4Network(n.cidr) for n in service
            ):
                yield Problem(
                    f"hosts[{i}].address",
                    f"{host.address} is outside the service network ({', '.join(n.cidr for n in service)})",
                )
    yield from _duplicates([(f"hosts[{i}].name", h.name) for i, h in enumerate(site.hosts) if h.name != ASK])
    yield from _duplicates(
        [(f"hosts[{i}].address", h.address) for i, h in enumerate(site.hosts) if h.address != ASK]
    )
    yield from _duplicates(
        [
            (f"hosts[{i}].interfaces[{j}].mac", f.mac)
            for i, h in enumerate(site.hosts)
            for j, f in enumerate(h.interfaces)
            if f.mac
        ]
    )


def _networks(site: SiteModel) -> Iterator[Problem]:
    yield from _duplicates([(f"networks[{i}].name", n.name) for i, n in enumerate(site.networks)])
    yield from _duplicates([(f"networks[{i}].cidr", n.cidr) for i, n in enumerate(site.networks)])
    purposes = {n.purpose for n in site.networks}
    for needed in ("service", "private"):
        if needed not in purposes:
            yield Problem("networks", f"a network with purpose {needed} is required")
    for i, net in enumerate(site.networks):
        cidr = ipaddress.IPv4Network(net.cidr)
        if net.gateway is not None and ipaddress.IPv4Address(net.gateway) not in cidr:
            yield Problem(f"networks[{i}].gateway", f"{net.gateway} is outside {net.cidr}")
        if net.purpose == "private" and not net.ranges:
            yield Problem(
                f"networks[{i}].ranges", "a private network needs at least one address range for workers"
            )


def _ranges(site: SiteModel) -> Iterator[Problem]:
    spans: list[tuple[int, int, str]] = []  # (first, last, path) of every range so far
    reserved = {h.address: f"hosts[{i}].address" for i, h in enumerate(site.hosts) if h.address != ASK}
    for i, net in enumerate(site.networks):
        cidr = ipaddress.IPv4Network(net.cidr)
        if net.gateway:
            reserved.setdefault(net.gateway, f"networks[{i}].gateway")
        for j, ar in enumerate(net.ranges):
            path = f"networks[{i}].ranges[{j}]"
            first = ipaddress.IPv4Address(ar.start)
            last = first + (ar.size - 1) if int(first) + ar.size - 1 <= 0xFFFFFFFF else None
            if first not in cidr or last is None or last not in cidr:
                end = last if last is not None else "beyond 255.255.255.255"
                yield Problem(f"{path}.start", f"{first}-{end} is outside {net.cidr}")
                continue
            if first == cidr.network_address or last == cidr.broadcast_address:
                yield Problem(
                    f"{path}.start", f"{first}-{last} includes the network or broadcast address of {net.cidr}"
                )
            for lo, hi, other in spans:
                if int(first) <= hi and lo <= int(last):
                    yield Problem(path, f"{first}-{last} overlaps {other}")
            spans.append((int(first), int(last), path))
    for address, where in reserved.items():
        for lo, hi, range_path in spans:
            if lo <= int(ipaddress.IPv4Address(address)) <= hi:
                yield Problem(range_path, f"range includes {address}, already used at {where}")


def _datastores(site: SiteModel) -> Iterator[Problem]:
    ds = site.datastores
    if ds.image.name == ds.system.name:
        yield Problem("datastores.system.name", f"{ds.system.name} is already the image datastore's name")
    for kind in ("image", "system"):
        store = getattr(ds, kind)
        if store.transfer == "ceph" and store.ceph is None:
            yield Problem(
                f"datastores.{kind}.ceph", "transfer ceph needs a ceph section (pool, monitors, secret_uuid)"
            )
        if store.transfer != "ceph" and store.ceph is not None:
            yield Problem(
                f"datastores.{kind}.ceph", f"only allowed with transfer ceph (transfer is {store.transfer})"
            )


def _squid(site: SiteModel) -> Iterator[Problem]:
    names = {h.name for h in site.hosts}
    if site.squid.host not in names:
        yield Problem(
            "squid.host", f"{site.squid.host} is not a host of this site (known: {', '.join(sorted(names))})"
        )
    networks = {n.name for n in site.networks}
    for i, client in enumerate(site.squid.clients):
        if client not in networks:
            yield Problem(f"squid.clients[{i}]", f"{client} is not a network of this site")


def _worker(site: SiteModel) -> Iterator[Problem]:
    if site.worker.public_nic and not any(n.purpose == "public" for n in site.networks):
        yield Problem("worker.public_nic", "true needs a network with purpose public")
    if site.worker.cpu != int(site.worker.cpu):
        # DIRAC's OpenNebula driver reads every template's CPU with int(): 0.5 breaks its list of flavors.
        yield Problem(
            "worker.cpu", f"{site.worker.cpu} must be a whole number: DIRAC's driver reads it as one"
        )
    kvm = [h for h in site.hosts if h.kvm]
    if not kvm:
        yield Problem("hosts", "at least one host must run VMs (kvm: true)")
    elif site.worker.memory_mb > max(h.memory_gb for h in kvm) * 1024:
        yield Problem("worker.memory_mb", f"{site.worker.memory_mb} MB does not fit on any KVM host")
    elif site.worker.vcpu > max(h.cpu_threads for h in kvm):
        yield Problem("worker.vcpu", f"{site.worker.vcpu} is more than any KVM host's cpu_threads")
