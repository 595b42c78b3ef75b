"""pyone, OpenNebula's own Python client, drives every object family of the emulator, errors included."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pyone
import pytest

from b2ct.emulator.backend import HostSize, Timing
from b2ct.emulator.server import Emulator
from tests.integration.conftest import PASSWORD

VNET = 'NAME="private"\nVN_MAD="bridge"\nBRIDGE="br1"\nGATEWAY="10.0.0.1"\nDNS="10.0.0.2"\nNETWORK_ADDRESS="10.0.0.0"\nNETWORK_MASK="255.255.255.0"\nAR=[TYPE="IP4", IP="10.0.0.10", SIZE="3"]'


def worker_template(one: pyone.OneServer, memory: int = 1024) -> tuple[int, int, int]:
    one.host.allocate("node1", "kvm", "kvm", -1)
    vn = one.vn.allocate(VNET, -1)
    image = one.image.allocate('NAME="worker"\nPATH="/var/tmp/worker.qcow2"\nSIZE="300"\nFORMAT="qcow2"', 1)
    template = one.template.allocate(
        f'NAME="worker"\nCPU="1"\nVCPU="1"\nMEMORY="{memory}"\nDISK=[IMAGE_ID="{image}"]\nNIC=[NETWORK_ID="{vn}"]\n'
        'CONTEXT=[NETWORK="YES", TOKEN="YES", SSH_PUBLIC_KEY="ssh-ed25519 AAAA test", START_SCRIPT_BASE64="ZWNobw=="]\n'
        'DESCRIPTION="B2CT worker"'
    )
    return vn, image, template


def test_system_and_users(one: pyone.OneServer) -> None:
    assert one.system.version() == "6.10.0"
    assert one.system.config().PORT == 2633
    assert one.user.info(-1).NAME == "oneadmin"
    assert [g.NAME for g in one.grouppool.info().GROUP] == ["oneadmin", "users"]
    assert [d.NAME for d in one.datastorepool.info().DATASTORE] == ["system", "default", "files"]


def test_wrong_credentials_and_unknown_methods_fail(emulator: Emulator) -> None:
    with pytest.raises(pyone.OneAuthenticationException, match="User couldn't be authenticated"):
        pyone.OneServer(emulator.endpoint, session="oneadmin:wrong").vm.info(0)
    with pytest.raises(pyone.OneApiException, match="not supported"):
        pyone.OneServer(emulator.endpoint, session=f"oneadmin:{PASSWORD}").vm.migrate(0, 1)


def test_hosts_and_clusters(one: pyone.OneServer) -> None:
    cluster = one.cluster.allocate("kvm")
    host = one.host.allocate("node1", "kvm", "kvm", cluster)
    info = one.host.info(host)
    assert (2, cluster, 800) == (info.STATE, info.CLUSTER_ID, info.HOST_SHARE.TOTAL_CPU)
    one.host.status(host, 1)
    assert one.host.info(host).STATE == 4
    ds = one.datastore.allocate('NAME="images"\nTYPE="IMAGE_DS"\nDS_MAD="fs"\nTM_MAD="qcow2"', cluster)
    assert cluster in one.datastore.info(ds).CLUSTERS.ID
    with pytest.raises(pyone.OneActionException, match="not empty"):
        one.cluster.delete(cluster)
    one.cluster.delhost(cluster, host)
    one.cluster.deldatastore(cluster, ds)
    one.host.delete(host)
    one.cluster.delete(cluster)
    with pytest.raises(pyone.OneNoExistsException):
        one.host.info(host)


def test_datastore_update_merge_and_replace(one: pyone.OneServer) -> None:
    ds = one.datastore.allocate('NAME="images"\nTYPE="IMAGE_DS"\nDS_MAD="fs"\nTM_MAD="ssh"\nLABEL="a"', -1)
    one.datastore.update(ds, 'LABEL="b"\nEXTRA="x"', 1)
    t = one.datastore.info(ds).TEMPLATE
    assert (t["LABEL"], t["EXTRA"], t["TM_MAD"]) == ("b", "x", "ssh")
    one.datastore.update(ds, 'TM_MAD="shared"', 0)
    assert "LABEL" not in one.datastore.info(ds).TEMPLATE
    with pytest.raises(pyone.OneException, match="NAME is already taken"):
        one.datastore.allocate('NAME="images"\nTYPE="IMAGE_DS"\nTM_MAD="ssh"', -1)
    one.datastore.delete(ds)


def test_virtual_network_address_ranges(one: pyone.OneServer) -> None:
    vn = one.vn.allocate(VNET, -1)
    assert one.vn.info(vn).STATE == 1
    one.vn.add_ar(vn, 'AR=[TYPE="IP4", IP="10.0.0.100", SIZE="10"]')
    ars = one.vn.info(vn).AR_POOL.AR
    assert [(a.AR_ID, a.SIZE) for a in ars] == [("0", 3), ("1", 10)]  # AR_ID is a string in the XSD
    one.vn.update_ar(vn, 'AR=[AR_ID="1", SIZE="20"]')
    assert one.vn.info(vn).AR_POOL.AR[1].SIZE == 20
    one.vn.hold(vn, 'LEASES=[IP="10.0.0.100"]')
    assert one.vn.info(vn).USED_LEASES == 1
    one.vn.release(vn, 'LEASES=[IP="10.0.0.100"]')
    one.vn.free_ar(vn, 1)
    one.vn.rm_ar(vn, 1)
    assert len(one.vn.info(vn).AR_POOL.AR) == 1
    one.vn.delete(vn)
    with pytest.raises(pyone.OneNoExistsException, match=r"\[one.vn.info\] Error getting virtual network"):
        one.vn.info(vn)


def test_leases_go_to_vm_nics_and_block_deletion(one: pyone.OneServer) -> None:
    vn, _, template = worker_template(one)
    vm = one.template.instantiate(template, "w1", False, "")
    nic = one.vm.info(vm).TEMPLATE["NIC"]
    assert (nic["IP"], nic["NETWORK_ID"], nic["NIC_ID"], nic["GATEWAY"]) == (
        "10.0.0.10",
        str(vn),
        "0",
        "10.0.0.1",
    )
    with pytest.raises(pyone.OneActionException, match="Can not remove a virtual network with leases in use"):
        one.vn.delete(vn)
    with pytest.raises(pyone.OneActionException, match="Address Range has leases in use"):
        one.vn.rm_ar(vn, 0)
    one.vm.action("terminate-hard", vm)
    one.vn.delete(vn)


def test_image_copy_time_grows_with_size(tmp_path: Path) -> None:
    emu = Emulator(
        {"oneadmin": PASSWORD}, port=0, onegate_port=0, timing=Timing(image_bandwidth_mb_s=1000)
    ).start()
    try:
        one = pyone.OneServer(emu.endpoint, session=f"oneadmin:{PASSWORD}")
        image = one.image.allocate('NAME="big"\nPATH="/x.qcow2"\nSIZE="1000"', 1)
        assert one.image.info(image).STATE == 4  # LOCKED while copying: 1000 MB at 1000 MB/s
        time.sleep(1.2)
        assert one.image.info(image).STATE == 1
    finally:
        emu.stop()


def test_images(one: pyone.OneServer) -> None:
    image = one.image.allocate('NAME="worker"\nPATH="/x.qcow2"\nSIZE="300"\nFORMAT="qcow2"', 1)
    info = one.image.info(image)
    assert (info.STATE, info.PERSISTENT, info.FORMAT, info.DATASTORE_ID) == (1, 0, "qcow2", 1)
    one.image.persistent(image, True)
    one.image.chtype(image, "DATABLOCK")
    info = one.image.info(image)
    assert (info.PERSISTENT, info.TYPE) == (1, 2)
    with pytest.raises(pyone.OneException, match="system datastore"):
        one.image.allocate('NAME="x"\nPATH="/x"', 0)
    one.image.delete(image)
    assert one.imagepool.info(-2, -1, -1).IMAGE == []


def test_templates_merge_clone_and_instantiate_replaces_context_whole(one: pyone.OneServer) -> None:
    _, _, template = worker_template(one)
    one.template.update(template, 'MEMORY="2048"', 1)
    assert one.template.info(template).TEMPLATE["MEMORY"] == "2048"
    clone = one.template.clone(template, "worker-copy")
    assert one.template.info(clone).NAME == "worker-copy"
    vm = one.template.instantiate(
        template,
        "dirac",
        False,
        'CONTEXT=[USERDATA="ZWNobyBoaQ==", USERDATA_ENCODING="base64", NETWORK="YES"]',
    )
    info = one.vm.info(vm)
    ctx = info.TEMPLATE["CONTEXT"]
    assert ctx["USERDATA"] == "ZWNobyBoaQ==" and ctx["ETH0_IP"] == "10.0.0.10"
    assert "SSH_PUBLIC_KEY" not in ctx and "TOKEN" not in ctx, "instantiate's CONTEXT replaces the template's"
    assert info.TEMPLATE["TEMPLATE_ID"] == str(template) and info.TEMPLATE["MEMORY"] == "2048"
    assert info.USER_TEMPLATE["DESCRIPTION"] == "B2CT worker"  # not a well-known attribute: user template
    one.template.delete(clone)


def test_vm_lifecycle(one: pyone.OneServer) -> None:
    _, image, template = worker_template(one)
    vm = one.template.instantiate(template, "w1", False, "")
    info = one.vm.info(vm)
    assert (info.STATE, info.LCM_STATE, info.HISTORY_RECORDS.HISTORY[0].HOSTNAME) == (3, 3, "node1")
    assert info.TEMPLATE["CONTEXT"]["ONEGATE_ENDPOINT"].startswith("http://127.0.0.1:")
    assert one.image.info(image).STATE == 2  # USED
    one.vm.action("poweroff", vm)
    assert one.vm.info(vm).STATE == 8
    one.vm.resize(vm, 'MEMORY="512"\nCPU="0.5"', False)
    one.vm.action("resume", vm)
    assert (one.vm.info(vm).STATE, one.vm.info(vm).TEMPLATE["MEMORY"]) == (3, "512")
    one.vm.update(vm, 'READY="NO"\nNOTE="x"', 1)
    one.vm.updateconf(vm, 'CONTEXT=[NETWORK="YES", EXTRA="1"]')
    one.vm.chmod(vm, 1, 1, 0, 1, 0, 0, 0, 0, 0)
    one.vm.chown(vm, -1, 1)
    one.vm.rename(vm, "renamed")
    info = one.vm.info(vm)
    assert (info.NAME, info.GNAME, info.PERMISSIONS.GROUP_U, info.USER_TEMPLATE["NOTE"]) == (
        "renamed",
        "users",
        1,
        "x",
    )
    one.vm.action("terminate", vm)
    info = one.vm.info(vm)
    assert info.STATE == 6, "DONE VMs stay readable"
    assert one.image.info(image).STATE == 1
    assert one.vmpool.info(-2, -1, -1, -1).VM == []
    assert [v.ID for v in one.vmpool.info(-2, -1, -1, 6).VM] == [vm]
    assert [v.ID for v in one.vmpool.infoextended(-2, -1, -1, -2).VM] == [vm]


def test_vm_stays_pending_when_nothing_fits(tmp_path: Path) -> None:
    emu = Emulator(
        {"oneadmin": PASSWORD}, port=0, onegate_port=0, host_size=HostSize(cpu=100, memory_mb=1024)
    ).start()
    try:
        one = pyone.OneServer(emu.endpoint, session=f"oneadmin:{PASSWORD}")
        _, _, template = worker_template(one, memory=768)
        first = one.template.instantiate(template, "a", False, "")
        second = one.template.instantiate(template, "b", False, "")
        assert (one.vm.info(first).STATE, one.vm.info(second).STATE) == (3, 1)
        held = one.template.instantiate(template, "c", True, "")
        assert one.vm.info(held).STATE == 2
        one.vm.action("terminate", first)
        assert one.vm.info(second).STATE == 3, "the freed host takes the pending VM"
        one.vm.action("release", held)
        assert one.vm.info(held).STATE == 1
    finally:
        emu.stop()


def test_security_groups(one: pyone.OneServer) -> None:
    sg = one.secgroup.allocate(
        'NAME="ssh"\nRULE=[PROTOCOL="TCP", RULE_TYPE="INBOUND", RANGE="22"]\nRULE=[PROTOCOL="ALL", RULE_TYPE="OUTBOUND"]'
    )
    rules = one.secgroup.info(sg).TEMPLATE["RULE"]
    assert len(rules) == 2 and rules[0]["RANGE"] == "22"
    one.secgroup.commit(sg, False)
    one.secgroup.delete(sg)
    with pytest.raises(pyone.OneActionException):
        one.secgroup.delete(0)


def test_locks(one: pyone.OneServer) -> None:
    _, _, template = worker_template(one)
    one.template.lock(template, 4)
    with pytest.raises(pyone.OneException, match="locked"):
        one.template.delete(template)
    one.template.unlock(template)
    one.template.delete(template)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "one.db"
    emu = Emulator({"oneadmin": PASSWORD}, port=0, onegate_port=0, state_file=state).start()
    one = pyone.OneServer(emu.endpoint, session=f"oneadmin:{PASSWORD}")
    vn, _, template = worker_template(one)
    vm = one.template.instantiate(template, "w1", False, "")
    emu.stop()
    emu = Emulator({"oneadmin": PASSWORD}, port=0, onegate_port=0, state_file=state).start()
    try:
        one = pyone.OneServer(emu.endpoint, session=f"oneadmin:{PASSWORD}")
        assert one.vm.info(vm).TEMPLATE["NIC"]["IP"] == "10.0.0.10"
        assert one.vn.info(vn).USED_LEASES == 1
        assert one.template.allocate('NAME="next"\nCPU="1"\nMEMORY="64"') == template + 1
    finally:
        emu.stop()


def test_onegate_ready_lands_in_user_template(emulator: Emulator, one: pyone.OneServer) -> None:
    _, _, template = worker_template(one)
    vm = one.template.instantiate(template, "w1", False, "")
    assert emulator.backend is not None
    token = emulator.backend.onegate_token(vm)
    base = one.vm.info(vm).TEMPLATE["CONTEXT"]["ONEGATE_ENDPOINT"]
    headers = {"X-ONEGATE-TOKEN": token, "X-ONEGATE-VMID": str(vm)}
    put = urllib.request.Request(f"{base}/vm", data=b"data=READY%3DYES", method="PUT", headers=headers)
    assert urllib.request.urlopen(put).status == 200
    assert one.vm.info(vm).USER_TEMPLATE["READY"] == "YES"
    doc = json.load(urllib.request.urlopen(urllib.request.Request(f"{base}/vm", headers=headers)))
    assert doc["VM"]["USER_TEMPLATE"]["READY"] == "YES" and doc["VM"]["ID"] == str(vm)
    bad = urllib.request.Request(f"{base}/vm", headers={**headers, "X-ONEGATE-TOKEN": "forged"})
    with pytest.raises(urllib.error.HTTPError, match="401"):
        urllib.request.urlopen(bad)
