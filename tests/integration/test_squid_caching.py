"""The rendered squid.conf, run by Debian's real squid in front of a CVMFS-shaped origin."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from b2ct.site import load_site
from b2ct.squid.view import squid_view
from tests.support import squid_instance
from tests.support.cvmfs_origin import Origin, object_path
from tests.support.squid_instance import OTHER, S1, Squid

pytestmark = pytest.mark.slow
REPO = "belle.cern.ch"
SIZES = {"small": 1024, "medium": 100 * 1024, "catalog": 4 * 1024 * 1024, "chunk": 16 * 1024 * 1024}
OBJECTS = {object_path(REPO, name): size for name, size in SIZES.items()} | {
    object_path(REPO, "slow"): 200 * 1024
}


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    o = Origin(OBJECTS, manifest_max_age=3).start()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def squid(origin: Origin) -> Iterator[Squid]:
    view = squid_view(load_site("local"))
    instance = squid_instance.start(*squid_instance.rendered_config(view, origin.port))
    yield instance
    instance.stop()


def url(origin: Origin, path: str, host: str = S1) -> str:
    return f"http://{host}:{origin.port}{path}"


@pytest.mark.parametrize("name", list(SIZES))
def test_repeated_fetches_are_hits_and_reach_the_origin_once(origin: Origin, squid: Squid, name: str) -> None:
    path = object_path(REPO, name)
    bodies = []
    for _ in range(3):
        status, body, _ = squid.get(url(origin, path))
        assert status == 200
        bodies.append(body)
    assert len(bodies[0]) == SIZES[name] and bodies[0] == bodies[1] == bodies[2]
    assert origin.hits[path] == 1, (
        f"{name} ({SIZES[name]} bytes) crossed to the origin {origin.hits[path]} times"
    )
    assert "HIT" in squid.get(url(origin, path))[2]


def test_concurrent_requests_for_one_object_reach_the_origin_once(origin: Origin, squid: Squid) -> None:
    path = object_path(REPO, "slow")
    origin.delay = 1.0  # the first fetch is still under way while the others arrive
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda _: squid.get(url(origin, path)), range(20)))
    finally:
        origin.delay = 0.0
    assert all(status == 200 and len(body) == 200 * 1024 for status, body, _ in results)
    assert origin.hits[path] == 1


def test_manifest_is_fetched_again_after_it_expires(origin: Origin, squid: Squid) -> None:
    path = f"/cvmfs/{REPO}/.cvmfspublished"
    assert squid.get(url(origin, path))[0] == 200
    assert squid.get(url(origin, path))[0] == 200
    assert origin.hits[path] == 1
    time.sleep(4)  # manifest max-age is 3 s here (61 s at a real Stratum-1)
    assert squid.get(url(origin, path))[0] == 200
    assert origin.hits[path] == 2


def test_destination_outside_the_stratum1_list_is_denied(origin: Origin, squid: Squid) -> None:
    path = object_path(REPO, "small")
    before = origin.hits[path]
    status, _, _ = squid.get(url(origin, path, host=OTHER))
    assert status == 403
    assert origin.hits[path] == before


def test_client_outside_the_allowed_networks_is_denied(origin: Origin, squid: Squid) -> None:
    status, _, _ = squid.get(url(origin, object_path(REPO, "small")), source="127.0.0.2")
    assert status == 403


def test_connect_tunnels_are_denied(squid: Squid) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", squid.port, timeout=10)
    conn.request("CONNECT", f"{S1}:443")
    assert conn.getresponse().status == 403
    conn.close()
