"""DIRAC's own OpenNebula driver (the one its CloudCE uses) against the emulator, as a DIRAC site would."""

from __future__ import annotations

import base64
from urllib.parse import urlparse

import pyone
from DIRAC.Resources.Computing.CloudProviders.OpenNebula import OpenNebula_6_0_NodeDriver
from libcloud.compute.base import NodeState

from b2ct.emulator.server import Emulator
from tests.integration.conftest import PASSWORD
from tests.integration.test_emulator_pyone import worker_template


def test_dirac_driver_runs_a_pilot_vm(emulator: Emulator, one: pyone.OneServer) -> None:
    worker_template(one)
    url = urlparse(emulator.endpoint)
    driver = OpenNebula_6_0_NodeDriver("oneadmin", PASSWORD, host=url.hostname, port=url.port, secure=False)

    sizes = driver.list_sizes()
    assert [s.name for s in sizes] == ["worker"]
    pilot = "#!/bin/bash\necho pilot\n"
    node = driver.create_node(name="VMDIRAC3_0123abcd", size=sizes[0], ex_userdata=pilot)
    assert node.state == NodeState.RUNNING

    # What DIRAC sent replaced the template's CONTEXT whole: the pilot rides in USERDATA, base64.
    context = one.vm.info(int(node.id)).TEMPLATE["CONTEXT"]
    assert base64.b64decode(context["USERDATA"]).decode() == pilot
    assert context["USERDATA_ENCODING"] == "base64" and context["NETWORK"] == "YES"
    assert "SSH_PUBLIC_KEY" not in context

    assert [n.name for n in driver.list_nodes()] == ["VMDIRAC3_0123abcd"]
    driver.destroy_node(node)  # returns nothing; errors raise
    assert one.vm.info(int(node.id)).STATE == 6
    assert driver.list_nodes() == []
