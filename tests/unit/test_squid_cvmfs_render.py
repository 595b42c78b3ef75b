"""squid.conf and default.local from the site model: view-model rules and golden files for turin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from b2ct.render.output import Output
from b2ct.site.loader import parse_site
from b2ct.squid import render as squid_render
from b2ct.squid.view import cvmfs_view, proxy_list, squid_view
from tests.conftest import shipped_site

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "turin"


def site_with(**changes: dict) -> object:
    data = shipped_site("turin")
    for section, values in changes.items():
        data[section].update(values)
    return parse_site(data, "environments/turin/site.yaml")


def test_proxy_list_is_the_site_squid_with_no_public_fallback() -> None:
    assert proxy_list(site_with()) == "http://10.1.0.10:3128"


def test_load_balanced_and_failover_groups() -> None:
    site = site_with(squid={"load_balanced_with": ["10.1.0.12:3128"], "failover": ["squid.infn.it:3128"]})
    assert proxy_list(site) == "http://10.1.0.10:3128|http://10.1.0.12:3128;http://squid.infn.it:3128"


def test_direct_only_when_the_site_says_so() -> None:
    assert proxy_list(site_with(cvmfs={"direct_fallback": True})).endswith(";DIRECT")


def test_squid_serves_only_its_client_networks_and_stratum1s() -> None:
    view = squid_view(site_with(squid={"clients": ["private"]}))
    assert view.client_cidrs == ["10.1.16.0/20"]
    assert "cvmfs-stratum-one.cc.kek.jp" in view.stratum1  # Belle II's Stratum-1 at KEK
    assert view.disk_cache_mb == 200 * 1024


def test_default_local_has_no_single_node_profile() -> None:
    text = squid_render.default_local(cvmfs_view(site_with()))
    assert "CVMFS_CLIENT_PROFILE=custom" in text and "CVMFS_CLIENT_PROFILE=single" not in text
    assert 'CVMFS_HTTP_PROXY="http://10.1.0.10:3128"' in text
    assert "CVMFS_REPOSITORIES=belle.cern.ch,grid.cern.ch" in text


@pytest.mark.parametrize("name", ["squid.conf", "default.local"])
def test_turin_golden_files(name: str) -> None:
    out = Output()
    squid_render.render(site_with(), out)
    rendered = {Path(k).name: v for k, (v, _) in out.files.items()}[name]
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
    assert rendered == golden.read_text(), (
        f"{name} differs from tests/golden/turin (UPDATE_GOLDEN=1 to accept)"
    )


def test_squid_parse_rejects_a_broken_configuration(tmp_path: Path) -> None:
    from b2ct.errors import UserError

    conf = tmp_path / "squid.conf"
    conf.write_text(squid_render.squid_conf(squid_view(site_with())) + "\ncache_mem lots\n")
    with pytest.raises(UserError, match="squid -k parse rejected"):
        squid_render.parse(conf)
