"""The site model: everything a site says about itself in environments/<site>/site.yaml.

Field-level rules live here (types, ranges, formats); rules that span fields live in rules.py so that
each problem can be reported at the exact path where the site admin has to fix it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ASK = "ask"
ONED_PORT = 2633  # oned's XML-RPC port (plain HTTP)

_HOSTNAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_FQDN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_IFNAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$")
_DISK = re.compile(r"^[a-zA-Z0-9/_.:-]+$")
_SHA512_CRYPT = re.compile(r"^\$6\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$")
_SSH_PUBKEY = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+( .*)?$"
)
_FAT_LABEL = re.compile(r"^[A-Z0-9_-]{1,11}$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_ONE_VERSION = re.compile(r"^(6\.10|7\.\d+)(\.\d+)?$")


def _check(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def _ip(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address") from None


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.IPv4Network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 network in CIDR form ({exc})") from None


Name = Annotated[
    str, _check(_NAME, "a name (lower case letters, digits, '-' or '_', starting with a letter)")
]
Hostname = Annotated[str, _check(_HOSTNAME, "a host name (lower case letters, digits and '-')")]
Fqdn = Annotated[str, _check(_FQDN, "a DNS name (lower case)")]
IPv4 = Annotated[str, AfterValidator(_ip)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Mac = Annotated[str, _check(_MAC, "a MAC address like 52:54:00:12:34:56 (lower case)")]
IfName = Annotated[str, _check(_IFNAME, "a Linux interface name (at most 15 characters)")]
Disk = Annotated[str, _check(_DISK, "a disk name such as sda, nvme0n1 or /dev/disk/by-id/...")]
Ask = Literal["ask"]


class Strict(BaseModel):
    """Unknown keys are mistakes: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(Strict):
    name: Name = Field(description="Short site name, used in resource names and file names.")
    description: str = Field("", description="Free text shown in reports.")


class OpenNebula(Strict):
    version: Annotated[str, _check(_ONE_VERSION, "a supported OpenNebula version (6.10 or 7.x)")] = Field(
        description="OpenNebula release the front-end runs: 6.10 (LTS) or 7.x."
    )
    endpoint: Annotated[
        str, _check(re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/.*)?$"), "an http(s):// URL")
    ] = Field(
        description="XML-RPC endpoint. Credentials never go here: they come from ONE_AUTH / ONE_XMLRPC."
    )
    emulated: bool = Field(
        False, description="True when the endpoint is B2CT's local OpenNebula emulator (ENV=local, CI)."
    )
    onegate_endpoint: str | None = Field(
        None, description="OneGate URL as seen from VMs; defaults to http://<front-end address>:5030."
    )


class Interface(Strict):
    name: IfName | None = Field(None, description="Interface name on the host, e.g. eno1.")
    mac: Mac | None = Field(None, description="MAC address; identifies the interface when names differ.")
    network: Name = Field(description="Name of the site network this interface is attached to.")


class Host(Strict):
    name: Hostname | Ask = Field(description="Short host name; `ask` lets the installer ask (nodes only).")
    role: Literal["frontend", "node", "ask"] = Field(description="frontend or node; `ask` at install time.")
    kvm: bool = Field(True, description="Whether this host also runs VMs (a front-end may).")
    install_disk: Disk | Ask = Field(description="Disk the installer wipes, or `ask`.")
    address: IPv4 | Ask = Field(description="Address on the service network, or `ask`.")
    interfaces: list[Interface] = Field(min_length=1, description="Interfaces, by name or MAC.")
    cpu_threads: int = Field(ge=1, le=4096, description="Hardware threads the host offers to VMs.")
    memory_gb: int = Field(ge=1, le=65536, description="Memory in GB.")


class AddressRange(Strict):
    start: IPv4 = Field(description="First address handed to VMs.")
    size: int = Field(ge=1, le=65536, description="Number of addresses.")


class Network(Strict):
    name: Name = Field(description="Network name; also the OpenNebula virtual network name.")
    purpose: Literal["service", "private", "public"] = Field(
        description="service (service/storage, hosts and front-end), private (workers), public."
    )
    bridge: IfName = Field(description="Linux bridge on every KVM host, e.g. br0.")
    device: IfName = Field(description="Physical device the bridge enslaves, e.g. eno1.")
    vlan: int | None = Field(None, ge=1, le=4094, description="802.1Q VLAN id, if tagged.")
    cidr: Cidr = Field(description="Network in CIDR form, e.g. 10.1.0.0/24.")
    gateway: IPv4 | None = Field(None, description="Default gateway inside the CIDR.")
    dns: list[IPv4] = Field(default_factory=list, description="DNS servers handed to VMs.")
    ranges: list[AddressRange] = Field(default_factory=list, description="Address ranges leased to VMs.")
    admin: bool = Field(False, description="Administrators connect from here: ssh allowed into workers.")


class Ceph(Strict):
    pool: Name = Field(description="RBD pool name.")
    monitors: list[str] = Field(min_length=1, description="Ceph monitor host names or addresses.")
    user: Name = Field("libvirt", description="Ceph user OpenNebula authenticates as.")
    secret_uuid: Annotated[
        str, _check(re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$"), "a libvirt secret UUID")
    ] = Field(description="UUID of the libvirt secret holding the Ceph key (the key itself never goes here).")


class Datastore(Strict):
    name: Name = Field(description="Datastore name in OpenNebula.")
    transfer: Literal["ssh", "shared", "qcow2", "ceph"] = Field(description="Transfer manager (TM_MAD).")
    ceph: Ceph | None = Field(None, description="Ceph parameters; required when transfer is ceph.")
    nfs_export: str | None = Field(None, description="NFS export mounted on every host (shared/qcow2).")


class Datastores(Strict):
    image: Datastore = Field(description="Where images live.")
    system: Datastore = Field(description="Where running VMs' disks live.")
    min_free_gb: int = Field(20, ge=0, description="`b2ct validate` fails below this free space.")


class Squid(Strict):
    host: Hostname = Field(description="Host that runs the site squid (usually the front-end).")
    address: IPv4 | None = Field(
        None, description="Address workers use to reach the squid; defaults to the squid host's address."
    )
    load_balanced_with: list[Annotated[str, _check(re.compile(r"^[A-Za-z0-9.-]+:\d+$"), "host:port")]] = (
        Field(
            default_factory=list, description="Further identical site squids (host:port), shared round-robin."
        )
    )
    failover: list[Annotated[str, _check(re.compile(r"^[A-Za-z0-9.-]+:\d+$"), "host:port")]] = Field(
        default_factory=list, description="Squids tried only when every site squid fails (host:port)."
    )
    port: int = Field(3128, ge=1, le=65535, description="Port the squid listens on.")
    memory_cache_mb: int = Field(256, ge=16, le=262144, description="cache_mem, in MB.")
    disk_cache_gb: int = Field(50, ge=1, le=100000, description="Disk cache size, in GB.")
    clients: list[Name] = Field(min_length=1, description="Networks whose hosts may use the squid.")


DEFAULT_STRATUM1 = [
    "cvmfs-stratum-one.cern.ch",
    "cvmfs-egi.gridpp.rl.ac.uk",
    "cvmfs-s1bnl.opensciencegrid.org",
    "cvmfs-s1fnal.opensciencegrid.org",
    "cvmfs-stratum-one.cc.kek.jp",
    "s1cern-cvmfs.openhtc.io",
    "s1ral-cvmfs.openhtc.io",
    "s1bnl-cvmfs.openhtc.io",
    "s1fnal-cvmfs.openhtc.io",
]


class Cvmfs(Strict):
    repositories: list[Fqdn] = Field(
        default_factory=lambda: ["belle.cern.ch", "grid.cern.ch"],
        min_length=1,
        description="Repositories mounted on workers.",
    )
    quota_mb: int = Field(20000, ge=1000, le=1_000_000, description="Client cache quota (CVMFS_QUOTA_LIMIT).")
    stratum1: list[Fqdn] = Field(
        default_factory=lambda: list(DEFAULT_STRATUM1),
        min_length=1,
        description="Stratum-1 servers: the only destinations the site squid forwards to.",
    )
    direct_fallback: bool = Field(False, description="Let workers go DIRECT when every site squid fails.")


class Worker(Strict):
    profile: Literal["debian12", "almalinux9", "ubuntu2404", "sl6", "ubuntu1404"] = Field(
        description="OS profile of the worker image."
    )
    disk_gb: int = Field(ge=2, le=2048, description="Image disk size in GB.")
    cpu: float = Field(gt=0, le=512, description="OpenNebula CPU share.")
    vcpu: int = Field(ge=1, le=512, description="Virtual CPUs.")
    memory_mb: int = Field(ge=256, le=4_194_304, description="Memory in MB.")
    image_url: str | None = Field(None, description="Take the image from this URL instead of `make image`.")
    public_nic: bool = Field(False, description="Give workers a second NIC on the public network.")


class Dirac(Strict):
    site: Annotated[
        str,
        _check(re.compile(r"^[A-Z]+\.[A-Za-z0-9_-]+\.[a-z]{2,}$"), "a DIRAC site name like CLOUD.Torino.it"),
    ] = Field(description="DIRAC site name.")
    ce: Fqdn = Field(description="Cloud CE name (usually the front-end's DNS name).")
    vo: Name = Field("belle", description="Virtual organisation.")


class Install(Strict):
    timezone: Annotated[
        str, _check(re.compile(r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$"), "a time zone such as Europe/Rome")
    ] = "UTC"
    keyboard: Annotated[
        str, _check(re.compile(r"^[a-z]{2}([-_][a-z0-9]+)?$"), "a keyboard layout such as us or it")
    ] = "us"
    language: Annotated[
        str, _check(re.compile(r"^[a-z]{2}_[A-Z]{2}\.UTF-8$"), "a locale such as en_US.UTF-8")
    ] = "en_US.UTF-8"
    root_password_hash: Annotated[
        str, _check(_SHA512_CRYPT, "a SHA-512 crypt hash ($6$...): never a clear-text password")
    ] = Field(description="Root password as a SHA-512 crypt hash (mkpasswd -m sha-512).")
    ssh_keys: list[Annotated[str, _check(_SSH_PUBKEY, "an OpenSSH public key")]] = Field(
        min_length=1, description="Public keys for root and for worker VMs."
    )
    usb_label: Annotated[str, _check(_FAT_LABEL, "a FAT label: at most 11 characters, A-Z 0-9 _ -")] = Field(
        description="Label of the USB key's FAT partition holding the kickstarts."
    )
    iso: str | None = Field(None, description="Path to the AlmaLinux 9 boot ISO to remaster.")


class SiteModel(Strict):
    """A whole site: the single input of every B2CT generator."""

    site: Site
    opennebula: OpenNebula
    hosts: list[Host] = Field(min_length=1)
    networks: list[Network] = Field(min_length=1)
    datastores: Datastores
    squid: Squid
    cvmfs: Cvmfs = Field(default_factory=Cvmfs)
    worker: Worker
    dirac: Dirac
    install: Install

    def network(self, name: str) -> Network:
        return next(n for n in self.networks if n.name == name)

    @property
    def frontend(self) -> Host:
        return next(h for h in self.hosts if h.role == "frontend")
