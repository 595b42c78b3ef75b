"""Every kind of object XML the emulator answers validates against OpenNebula's own XML Schemas."""

from __future__ import annotations

import xmlrpc.client

import pytest
from lxml import etree

from b2ct import paths
from b2ct.emulator.server import Emulator
from tests.integration.conftest import PASSWORD
from tests.integration.test_emulator_pyone import VNET

XSD_DIR = paths.checkout().parent / "shared" / "opennebula-xsd"
pytestmark = pytest.mark.skipif(
    not XSD_DIR.is_dir(), reason="../shared/opennebula-xsd is not beside the checkout"
)


def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / f"{name}.xsd")))


NS = "http://opennebula.org/XMLSchema"


def in_schema_namespace(text: str) -> etree._Element:
    """oned answers without the schemas' namespace; the schemas are written in it."""
    doc = etree.fromstring(text.encode())
    for el in doc.iter():
        el.tag = f"{{{NS}}}{el.tag}"
    return doc


def call(proxy: xmlrpc.client.ServerProxy, method: str, *args: object) -> str:
    ok, value, _code, *_ = getattr(proxy, method)(f"oneadmin:{PASSWORD}", *args)
    assert ok, value
    return str(value)


def test_every_response_kind_matches_the_schema(emulator: Emulator) -> None:
    rpc = xmlrpc.client.ServerProxy(emulator.endpoint)
    cluster = int(call(rpc, "one.cluster.allocate", "kvm"))
    host = int(call(rpc, "one.host.allocate", "node1", "kvm", "kvm", cluster))
    vn = int(call(rpc, "one.vn.allocate", VNET, cluster))
    image = int(call(rpc, "one.image.allocate", 'NAME="w"\nPATH="/w.qcow2"\nSIZE="10"', 1))
    # The 7.x security_group.xsd lists only PROTOCOL and RULE_TYPE inside RULE (oned writes more).
    sg = int(call(rpc, "one.secgroup.allocate", 'NAME="out"\nRULE=[PROTOCOL="ALL", RULE_TYPE="OUTBOUND"]'))
    template = int(
        call(
            rpc,
            "one.template.allocate",
            f'NAME="t"\nCPU="1"\nMEMORY="64"\nDISK=[IMAGE_ID="{image}"]\nNIC=[NETWORK_ID="{vn}"]\n'
            'CONTEXT=[NETWORK="YES", TOKEN="YES"]',
        )
    )
    vm = int(call(rpc, "one.template.instantiate", template, "vm", False, ""))
    call(rpc, "one.vm.lock", vm, 1)
    cases = [
        ("cluster", "one.cluster.info", (cluster,)),
        ("cluster_pool", "one.clusterpool.info", ()),
        ("host", "one.host.info", (host,)),
        ("host_pool", "one.hostpool.info", ()),
        ("vnet", "one.vn.info", (vn,)),
        ("vnet_pool", "one.vnpool.info", (-2, -1, -1)),
        ("image", "one.image.info", (image,)),
        ("image_pool", "one.imagepool.info", (-2, -1, -1)),
        ("security_group", "one.secgroup.info", (sg,)),
        ("security_group_pool", "one.secgrouppool.info", (-2, -1, -1)),
        ("vmtemplate", "one.template.info", (template,)),
        ("vmtemplate_pool", "one.templatepool.info", (-2, -1, -1)),
        ("vm", "one.vm.info", (vm,)),
        ("vm_pool_extended", "one.vmpool.infoextended", (-2, -1, -1, -2)),
        ("datastore", "one.datastore.info", (1,)),
        ("datastore_pool", "one.datastorepool.info", ()),
        ("user", "one.user.info", (0,)),
        ("group", "one.group.info", (0,)),
    ]
    failures = []
    for xsd, method, args in cases:
        doc = in_schema_namespace(call(rpc, method, *args))
        s = schema(xsd)
        if not s.validate(doc):
            failures.append(f"{method}: {s.error_log.last_error}")
    assert not failures, "\n".join(failures)
