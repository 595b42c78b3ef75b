"""`b2ct dirac-config`: DIRAC's own OpenNebula driver, set up from the generated section as its CloudCE
sets it up, runs a pilot VM through the
emulator (template instantiated, base64 USERDATA context, running, destroyed)."""

from __future__ import annotations

import base64
import configparser
import email
import sys
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

import diraccfg
import pyone
import pytest
import yaml
from libcloud.compute.base import NodeState
from libcloud.compute.providers import get_driver, set_driver

from b2ct.cli import main
from b2ct.emulator.seed import seed
from b2ct.emulator.server import Emulator
from b2ct.site import load_site
from tests.conftest import shipped_site, write_site
from tests.integration.conftest import PASSWORD


def ce_section(cfg_text: str, site: str, ce: str) -> dict[str, object]:
    doc = diraccfg.CFG().loadFromBuffer(cfg_text).getAsDict()
    section: dict[str, object] = doc["Resources"]["Sites"]["CLOUD"][site]["CEs"][ce]
    return section


def test_turin_section_parses_and_points_at_the_tls_endpoint(
    scratch_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dirac-config", "turin"]) == 0
    out = capsys.readouterr().out
    assert out == (scratch_root / "build/turin/dirac/cloudce.cfg").read_text()
    ce = ce_section(out, "CLOUD.Torino.it", "one.to.infn.it")
    assert ce["CEType"] == "Cloud"
    assert ce["CloudType"] == "DIRAC.Resources.Computing.CloudProviders.OpenNebula.OpenNebula_6_0_NodeDriver"
    assert (ce["Driver_host"], ce["Driver_port"], ce["Driver_secure"]) == ("one.to.infn.it", "443", "True")
    assert ce["Instance_Image"] == "name:b2ct-turin-worker-almalinux9"
    assert ce["Instance_Flavor"] == "name:b2ct-turin-worker"
    # 40 threads, 160 GB per host; 1 vCPU, 4 GB per worker: memory binds (39 on the front-end, 40 on the node)
    assert ce["MaxTotalJobs"] == "79"
    assert "secret" not in out.lower().replace("secrets", "")


def test_dirac_cloud_ce_runs_a_pilot_vm_from_the_generated_section(
    scratch_root: Path, emulator: Emulator, one: pyone.OneServer, tmp_path: Path
) -> None:
    data = shipped_site("local")
    data["opennebula"]["endpoint"] = emulator.endpoint  # the emulator listens on a free port in tests
    write_site(scratch_root, "local", data)
    seed(load_site("local"), one)
    assert main(["dirac-config", "local"]) == 0
    folder = scratch_root / "build/local/dirac"
    ce = ce_section((folder / "cloudce.cfg").read_text(), "CLOUD.Local.xx", "front.local.b2ct")
    queue = ce.pop("Queues")["b2ct-local-worker"]  # type: ignore[index]
    auth = tmp_path / "cloud.auth"  # what the admin makes from cloud.auth.example on the DIRAC server
    auth.write_text(
        (folder / "cloud.auth.example").read_text().replace("key = dirac", "key = oneadmin")
        .replace("REPLACE-WITH-THE-OPENNEBULA-PASSWORD-OF-dirac", PASSWORD)
    )  # fmt: skip
    params = {**ce, **queue, "CloudAuth": str(auth), "Context_Template": str(folder / "cloudinit.yaml")}
    pilot = "#!/bin/bash\necho 'Belle II pilot'"
    driver, node = cloud_ce_submit(params, "front.local.b2ct", pilot)
    vm_id = int(node.id)

    vm = one.vm.info(vm_id)
    assert vm.STATE == 3 and vm.LCM_STATE == 3 and vm.NAME.startswith("VMDIRAC3_")
    assert vm.TEMPLATE["TEMPLATE_ID"] == str(
        next(t.ID for t in one.templatepool.info(-2, -1, -1).VMTEMPLATE if t.NAME == "b2ct-local-worker")
    )
    context = vm.TEMPLATE["CONTEXT"]
    assert context["USERDATA_ENCODING"] == "base64"
    mime = email.message_from_string(base64.b64decode(context["USERDATA"]).decode())
    (part,) = [p for p in mime.walk() if p.get_content_type() == "text/cloud-config"]
    cloud_config = yaml.safe_load(part.get_payload(decode=True))
    files = {f["path"]: f["content"] for f in cloud_config["write_files"]}
    assert files["/opt/dirac-pilot/run_pilot.sh"] == "#!/bin/bash\necho 'Belle II pilot'"
    assert "STAMP_STR" not in files["/opt/dirac-pilot/startup.sh"]

    assert [(n.name, n.state) for n in driver.list_nodes()] == [(node.name, NodeState.RUNNING)]
    driver.destroy_node(node)
    assert one.vm.info(vm_id).STATE == 6
    assert driver.list_nodes() == []


def cloud_ce_submit(params: dict[str, Any], ce_name: str, pilot: str) -> tuple[Any, Any]:
    """What DIRAC's CloudComputingElement.submitJob does with its CE options, step by step.

    The CE class itself cannot be imported without DIRAC's whole grid stack (M2Crypto, diracx), so its option
    handling is followed here; the driver that talks to OpenNebula is DIRAC's own.
    """
    provider = str(params["CloudType"])
    module, cls = provider.rsplit(".", 1)
    set_driver(provider, module, cls)
    auth = configparser.ConfigParser()
    auth.read(str(params["CloudAuth"]))
    section = ce_name if ce_name in auth else "DEFAULT"
    options = {
        k[len("Driver_") :]: v for k, v in params.items() if k.startswith("Driver_")
    }  # strings, as in DIRAC
    driver = get_driver(provider)(auth[section]["key"], secret=auth[section]["secret"], **options)
    image = next(
        i for i in driver.list_images() if i.name == str(params["Instance_Image"]).removeprefix("name:")
    )
    size = next(
        s for s in driver.list_sizes() if s.name == str(params["Instance_Flavor"]).removeprefix("name:")
    )
    template = yaml.safe_load(Path(str(params["Context_Template"])).read_text())
    for entry in template["write_files"]:
        if entry["content"] == "EXECUTABLE_STR":
            entry["content"] = pilot
        entry["content"] = entry["content"].replace("STAMP_STR", "0123ABCD")
    userdata = MIMEMultipart()
    text = MIMEText(yaml.dump(template), "cloud-config", sys.getdefaultencoding())
    text.add_header("Content-Disposition", 'attachment; filename="pilotconfig"')
    userdata.attach(text)
    node = driver.create_node(
        name="VMDIRAC3_0123ABCD", image=image, size=size, ex_userdata=str(userdata), ex_config_drive=True
    )
    return driver, node
