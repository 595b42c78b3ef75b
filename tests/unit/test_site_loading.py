"""Shipped sites load, and every kind of mistake in site.yaml gets its own precise line and exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from b2ct.cli import main
from b2ct.site import load_site
from tests.conftest import shipped_site, write_site


@pytest.mark.parametrize("env", ["turin", "local"])
def test_shipped_sites_load(env: str) -> None:
    site = load_site(env)
    assert site.site.name == env
    assert sum(h.role == "frontend" for h in site.hosts) == 1
    assert {n.purpose for n in site.networks} >= {"service", "private", "public"}


def test_turin_is_the_2016_site() -> None:
    site = load_site("turin")
    assert [h.role for h in site.hosts] == ["frontend", "node"]
    assert site.frontend.kvm and site.frontend.cpu_threads == 40 and site.frontend.memory_gb == 160


def test_site_files_point_editors_at_the_schema() -> None:
    for env in ("turin", "local"):
        first = Path(f"environments/{env}/site.yaml").read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../schemas/site.schema.json"


Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = d
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = d
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        del node[last]

    return mutate


def _do(fn: Callable[[dict[str, Any]], Any]) -> Mutation:
    return fn


F = "environments/turin/site.yaml"
BAD: list[tuple[str, Mutation, str]] = [
    (
        "unknown top-level key",
        _set("sites", {}),
        "sites: unknown key (check the spelling; see schemas/site.schema.json for allowed keys)",
    ),
    (
        "unknown nested key",
        _set("squid.cache", 3),
        "squid.cache: unknown key (check the spelling; see schemas/site.schema.json for allowed keys)",
    ),
    ("missing site name", _delete("site.name"), "site.name: required field is missing"),
    ("missing section", _delete("dirac"), "dirac: required field is missing"),
    (
        "unsupported version",
        _set("opennebula.version", "5.12"),
        "opennebula.version: '5.12' is not a supported OpenNebula version (6.10 or 7.x)",
    ),
    (
        "TLS endpoint on oned's port",
        _set("opennebula.endpoint", "https://one.to.infn.it:2633/RPC2"),
        "opennebula.endpoint: port 2633 is oned's own plain XML-RPC port; the TLS proxy listens elsewhere "
        "(443 when no port is given): use https://one.to.infn.it/RPC2",
    ),
    (
        "fractional worker CPU",
        _set("worker.cpu", 0.5),
        "worker.cpu: 0.5 must be a whole number: DIRAC's driver reads it as one",
    ),
    (
        "endpoint not a URL",
        _set("opennebula.endpoint", "ftp://one"),
        "opennebula.endpoint: 'ftp://one' is not an http(s):// URL",
    ),
    (
        "two front-ends",
        _set("hosts.1.role", "frontend"),
        "hosts: exactly one host must have role frontend (found 2: hosts[0], hosts[1])",
    ),
    (
        "no front-end",
        _set("hosts.0.role", "node"),
        "hosts: exactly one host must have role frontend (found 0: none)",
    ),
    (
        "bad role",
        _set("hosts.1.role", "master"),
        "hosts[1].role: Input should be 'frontend', 'node' or 'ask'",
    ),
    (
        "duplicate host name",
        _set("hosts.1.name", "b2front"),
        "hosts[1].name: b2front is already used at hosts[0].name",
    ),
    (
        "duplicate address",
        _set("hosts.1.address", "10.1.0.10"),
        "hosts[1].address: 10.1.0.10 is already used at hosts[0].address",
    ),
    (
        "duplicate MAC",
        _set("hosts.1.interfaces.0.mac", "14:18:77:3a:10:01"),
        "hosts[1].interfaces[0].mac: 14:18:77:3a:10:01 is already used at hosts[0].interfaces[0].mac",
    ),
    (
        "bad host name",
        _set("hosts.1.name", "Node_1"),
        "hosts[1].name: 'Node_1' is not a host name (lower case letters, digits and '-') or `ask`",
    ),
    (
        "bad MAC",
        _set("hosts.0.interfaces.0.mac", "14-18-77"),
        "hosts[0].interfaces[0].mac: '14-18-77' is not a MAC address like 52:54:00:12:34:56 (lower case)",
    ),
    (
        "unknown interface network",
        _set("hosts.0.interfaces.1.network", "storage"),
        "hosts[0].interfaces[1].network: storage is not a network of this site (known: private, public, service)",
    ),
    (
        "interface without name or MAC",
        _set("hosts.0.interfaces.0", {"network": "service"}),
        "hosts[0].interfaces[0]: give a name or a mac to identify the interface",
    ),
    (
        "front-end address ask",
        _set("hosts.0.address", "ask"),
        "hosts[0].address: `ask` is not allowed for the front-end",
    ),
    (
        "host outside service network",
        _set("hosts.1.address", "10.9.0.11"),
        "hosts[1].address: 10.9.0.11 is outside the service network (10.1.0.0/24)",
    ),
    (
        "ask where it cannot be asked",
        _set("networks.0.cidr", "ask"),
        "networks[0].cidr: 'ask' is not an IPv4 network in CIDR form (Expected 4 octets in 'ask')",
    ),
    (
        "gateway outside CIDR",
        _set("networks.0.gateway", "10.1.2.1"),
        "networks[0].gateway: 10.1.2.1 is outside 10.1.0.0/24",
    ),
    (
        "CIDR with host bits",
        _set("networks.0.cidr", "10.1.0.1/24"),
        "networks[0].cidr: '10.1.0.1/24' is not an IPv4 network in CIDR form (10.1.0.1/24 has host bits set)",
    ),
    (
        "VLAN out of range",
        _set("networks.1.vlan", 5000),
        "networks[1].vlan: Input should be less than or equal to 4094",
    ),
    (
        "range outside CIDR",
        _set("networks.1.ranges.0", {"start": "10.1.31.250", "size": 10}),
        "networks[1].ranges[0].start: 10.1.31.250-10.1.32.3 is outside 10.1.16.0/20",
    ),
    (
        "overlapping ranges",
        _do(lambda d: d["networks"][1]["ranges"].append({"start": "10.1.16.100", "size": 4})),
        "networks[1].ranges[1]: 10.1.16.100-10.1.16.103 overlaps networks[1].ranges[0]",
    ),
    (
        "range covers the gateway",
        _set("networks.2.ranges.0", {"start": "192.0.2.1", "size": 4}),
        "networks[2].ranges[0]: range includes 192.0.2.1, already used at networks[2].gateway",
    ),
    (
        "private network without ranges",
        _set("networks.1.ranges", []),
        "networks[1].ranges: a private network needs at least one address range for workers",
    ),
    (
        "duplicate network name",
        _set("networks.2.name", "private"),
        "networks[2].name: private is already used at networks[1].name",
    ),
    (
        "USB label lower case",
        _set("install.usb_label", "b2ct"),
        "install.usb_label: 'b2ct' is not a FAT label: at most 11 characters, A-Z 0-9 _ -",
    ),
    (
        "USB label too long",
        _set("install.usb_label", "B2CT-TURIN-KEY"),
        "install.usb_label: 'B2CT-TURIN-KEY' is not a FAT label: at most 11 characters, A-Z 0-9 _ -",
    ),
    (
        "clear-text root password",
        _set("install.root_password_hash", "hunter2"),
        "install.root_password_hash: 'hunter2' is not a SHA-512 crypt hash ($6$...): never a clear-text password",
    ),
    (
        "private key instead of public",
        _set("install.ssh_keys", ["-----BEGIN OPENSSH PRIVATE KEY-----"]),
        "install.ssh_keys[0]: '-----BEGIN OPENSSH PRIVATE KEY-----' is not an OpenSSH public key",
    ),
    (
        "squid on an unknown host",
        _set("squid.host", "cache1"),
        "squid.host: cache1 is not a host of this site (known: b2front, b2node1)",
    ),
    (
        "squid client network unknown",
        _set("squid.clients", ["workers"]),
        "squid.clients[0]: workers is not a network of this site",
    ),
    (
        "ceph without parameters",
        _set("datastores.system.transfer", "ceph"),
        "datastores.system.ceph: transfer ceph needs a ceph section (pool, monitors, secret_uuid)",
    ),
    (
        "unknown transfer mode",
        _set("datastores.image.transfer", "nfs"),
        "datastores.image.transfer: Input should be 'ssh', 'shared', 'qcow2' or 'ceph'",
    ),
    (
        "unknown worker profile",
        _set("worker.profile", "centos7"),
        "worker.profile: Input should be 'debian12', 'almalinux9', 'ubuntu2404', 'sl6' or 'ubuntu1404'",
    ),
    (
        "worker bigger than any host",
        _set("worker.memory_mb", 200 * 1024),
        "worker.memory_mb: 204800 MB does not fit on any KVM host",
    ),
    (
        "public NIC without public network",
        _do(
            lambda d: (
                d["worker"].update(public_nic=True),
                d["networks"].pop(2),
                [h["interfaces"].pop(2) for h in d["hosts"]],
            )
        ),
        "worker.public_nic: true needs a network with purpose public",
    ),
    (
        "bad DIRAC site name",
        _set("dirac.site", "Torino"),
        "dirac.site: 'Torino' is not a DIRAC site name like CLOUD.Torino.it",
    ),
    (
        "wrong type",
        _set("squid.port", "three"),
        "squid.port: Input should be a valid integer, unable to parse string as an integer",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in BAD], ids=[n for n, _, _ in BAD])
def test_bad_input_names_file_and_field(
    scratch_root: Path, mutate: Mutation, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = shipped_site("turin")
    mutate(data)
    write_site(scratch_root, "turin", data)
    assert main(["render", "turin"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert f"{F}: {expected}" in err, "\n".join(err)
    assert all(line.startswith(f"{F}: ") for line in err)
    assert "Traceback" not in "\n".join(err)
    assert not (scratch_root / "build").exists(), "nothing may be written for a bad site"


def test_every_problem_is_reported_at_once(scratch_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = shipped_site("turin")
    data["hosts"][1]["name"] = "b2front"
    data["networks"][0]["gateway"] = "10.1.2.1"
    write_site(scratch_root, "turin", data)
    assert main(["check", "turin"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert f"{F}: hosts[1].name: b2front is already used at hosts[0].name" in err
    assert f"{F}: networks[0].gateway: 10.1.2.1 is outside 10.1.0.0/24" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("site: [unclosed\n", "line 2, column 1: not valid YAML"),
        ("site: {name: a}\nsite: {name: b}\n", "line 2, column 1: not valid YAML: duplicate key 'site'"),
        ("- just\n- a list\n", "(top level): expected a mapping of sections (site, opennebula, hosts, ...)"),
    ],
)
def test_yaml_errors(
    scratch_root: Path, text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_site(scratch_root, "turin", text)
    assert main(["render", "turin"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{F}: {expected}"), err
    assert not (scratch_root / "build").exists()


def test_unknown_site_lists_known_ones(scratch_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "milan"]) == 2
    assert capsys.readouterr().err.strip() == (
        "environments/milan/site.yaml: no such site 'milan' (known sites: local, turin)"
    )
