"""View model for the kickstarts: one per role (frontend, node), built from the site model.

A kickstart serves every host of its role; its %pre recognises the machine by MAC address (or asks which host
it is) and asks only for what site.yaml left as `ask`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from b2ct.secrets import OneadminKey
from b2ct.site import SiteModel
from b2ct.site.model import ASK, ONED_PORT, Host, Network
from b2ct.squid.render import squid_conf
from b2ct.squid.view import squid_view

ROLES = ("frontend", "node")
ONEGATE_PORT = 5030
MONITOR_PORT = 4124
MIGRATION_PORTS = "49152-49215"
VNC_PORTS = "5900-65535"  # VNC_PORTS in oned.conf start at 5900; the port is 5900 + VM id
FIREEDGE_PORT = 2616


@dataclass(frozen=True)
class Port:
    """A bridge port: the host interface (by name, else by MAC), tagged when the network has a VLAN."""

    bridge: str
    ifname: str
    mac: str
    vlan: int | None


@dataclass(frozen=True)
class Bridge:
    name: str
    zone: str
    address: bool  # carries the host's service address


@dataclass(frozen=True)
class HostView:
    index: int
    name: str  # "ask" when the installer asks
    address: str  # "ask" when the installer asks
    disk: str  # "ask" when the installer asks
    macs: list[str]
    install_device: str  # interface on the service network, by name or MAC
    bridges: list[Bridge]
    ports: list[Port]
    squid: bool  # this host runs the site squid
    kvm: bool  # this host runs VMs


@dataclass(frozen=True)
class Zone:
    name: str
    network: str
    ports: list[str]  # firewalld port specs: 22/tcp, 4124/udp, 49152-49215/tcp


@dataclass(frozen=True)
class KickstartView:
    role: str
    site: str
    one_version: str
    one_repo: str
    separate_scheduler: bool
    tls_port: int
    oned_port: int
    fireedge_port: int
    onegate_endpoint: str
    frontend_name: str
    frontend_address: str
    hosts: list[HostView]
    kvm_nodes: list[str]  # named KVM hosts the front-end registers at first boot
    service_cidr: str
    service_netmask: str
    service_prefix: int
    gateway: str
    dns: list[str]
    zones: list[Zone]
    timezone: str
    keyboard: str
    language: str
    root_password_hash: str
    ssh_keys: list[str]
    oneadmin: OneadminKey
    squid_conf: str
    squid_port: int


def tls_port(site: SiteModel) -> int:
    """The port of the front-end's TLS proxy: the endpoint's, or 443."""
    url = urlsplit(site.opennebula.endpoint)
    return url.port if url.scheme == "https" and url.port else 443


def onegate_endpoint(site: SiteModel) -> str:
    return site.opennebula.onegate_endpoint or f"http://{site.frontend.address}:{ONEGATE_PORT}"


def zone_name(net: Network, index: int) -> str:
    name = f"b2ct-{net.name}"
    return name if len(name) <= 17 else f"b2ct-net{index}"  # firewalld zone names are short


def _zone_ports(site: SiteModel, role: str, net: Network) -> list[str]:
    """What each network needs to reach on a host of this role; everything else stays closed."""
    squid_role = next(h.role for h in site.hosts if h.name == site.squid.host)
    squid_here = net.name in site.squid.clients and squid_role in (role, ASK)
    ports: list[str] = []
    if net.purpose == "service":
        ports += ["22/tcp"]
        if role == "frontend":
            ports += [f"{tls_port(site)}/tcp", f"{MONITOR_PORT}/tcp", f"{MONITOR_PORT}/udp"]
        ports += [f"{MIGRATION_PORTS}/tcp", f"{VNC_PORTS}/tcp"]
    elif net.purpose == "private" and role == "frontend":
        ports += [f"{ONEGATE_PORT}/tcp"]  # workers report READY and their state to OneGate
    elif net.purpose == "public" and role == "frontend":
        ports += [f"{tls_port(site)}/tcp"]  # DIRAC reaches the API from outside through TLS only
    if squid_here:
        ports += [f"{site.squid.port}/tcp"]
    return ports


def _host_view(site: SiteModel, index: int, host: Host) -> HostView:
    bridges: list[Bridge] = []
    ports: list[Port] = []
    install_device = ""
    for iface in host.interfaces:
        net = site.network(iface.network)
        n = site.networks.index(net)
        ifname = iface.name or ""
        mac = iface.mac or ""
        if net.purpose == "service" and not install_device:
            install_device = ifname or mac
        if all(b.name != net.bridge for b in bridges):
            bridges.append(Bridge(net.bridge, zone_name(net, n), address=net.purpose == "service"))
        ports.append(Port(net.bridge, ifname, mac, net.vlan))
    return HostView(
        index=index,
        name=host.name,
        address=host.address,
        disk=host.install_disk,
        macs=[i.mac for i in host.interfaces if i.mac],
        install_device=install_device,
        bridges=bridges,
        ports=ports,
        squid=host.name == site.squid.host,
        kvm=host.kvm,
    )


def kickstart_view(site: SiteModel, role: str, oneadmin: OneadminKey) -> KickstartView:
    service = next(n for n in site.networks if n.purpose == "service")
    cidr = ipaddress.IPv4Network(service.cidr)
    version = ".".join(site.opennebula.version.split(".")[:2])
    # A host whose role is `ask` is installed by whichever boot entry (front-end or node) the admin picks.
    members = [(i, h) for i, h in enumerate(site.hosts) if h.role in (role, ASK)]
    if role == "frontend":
        members = [(i, h) for i, h in members if h.role == role]
    used = {n.name for _, h in members for i in h.interfaces for n in [site.network(i.network)]}
    return KickstartView(
        role=role,
        site=site.site.name,
        one_version=version,
        one_repo=f"https://downloads.opennebula.io/repo/{version}/AlmaLinux/9/x86_64",
        separate_scheduler=version == "6.10",
        tls_port=tls_port(site),
        oned_port=ONED_PORT,
        fireedge_port=FIREEDGE_PORT,
        onegate_endpoint=onegate_endpoint(site),
        frontend_name=site.frontend.name,
        frontend_address=site.frontend.address,
        hosts=[_host_view(site, i, h) for i, h in members],
        kvm_nodes=[h.name for h in site.hosts if h.kvm and h.name != ASK],
        service_cidr=str(cidr),
        service_netmask=str(cidr.netmask),
        service_prefix=cidr.prefixlen,
        gateway=service.gateway or "",
        dns=list(service.dns),
        zones=[
            Zone(zone_name(net, n), net.name, _zone_ports(site, role, net))
            for n, net in enumerate(site.networks)
            if net.name in used
        ],
        timezone=site.install.timezone,
        keyboard=site.install.keyboard,
        language=site.install.language,
        root_password_hash=site.install.root_password_hash,
        ssh_keys=list(site.install.ssh_keys),
        oneadmin=oneadmin,
        squid_conf=squid_conf(squid_view(site)),
        squid_port=site.squid.port,
    )
