"""Benchmark: origin bytes, hit ratio and throughput of the rendered squid.conf against Debian's stock one.

Same squid binary, same origin, same load: 50 concurrent clients fetching a CVMFS-like mix (many small
compressed files, a few catalogs, 4-16 MiB chunks, the short-lived manifest). Goals: origin bytes <= 1.05 x
unique bytes for the rendered configuration, and >= 10 x fewer origin bytes than the stock configuration.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from b2ct.site import load_site
from b2ct.squid.view import squid_view
from tests.support import squid_instance
from tests.support.cvmfs_origin import Origin, object_path
from tests.support.squid_instance import S1

REPO = "belle.cern.ch"
CLIENTS = 50
SEED = 2016


def workload() -> tuple[dict[str, int], list[list[str]]]:
    rng = random.Random(SEED)
    objects: dict[str, int] = {}
    for i in range(300):
        objects[object_path(REPO, f"file{i}")] = rng.randint(1024, 100 * 1024)
    for i in range(6):
        objects[object_path(REPO, f"catalog{i}") + "C"] = rng.randint(1, 8) * 1024 * 1024
    for i in range(6):
        objects[object_path(REPO, f"chunk{i}") + "P"] = rng.randint(4, 16) * 1024 * 1024
    names = list(objects)
    # Each client (a worker starting a job) reads the manifest, then ~40% of the objects in its own order.
    plans = []
    for _ in range(CLIENTS):
        plan = [p for p in names if rng.random() < 0.4]
        rng.shuffle(plan)
        plans.append([f"/cvmfs/{REPO}/.cvmfspublished", *plan])
    return objects, plans


def run(
    label: str,
    configure: Callable[[int], tuple[Path, int, str]],
    objects: dict[str, int],
    plans: list[list[str]],
) -> dict[str, float]:
    origin = Origin(objects).start()
    squid = squid_instance.start(*configure(origin.port))
    delivered = requests = hits = 0

    def client(plan: list[str]) -> tuple[int, int]:
        got = hit = 0
        for path in plan:
            status, body, cache = squid.get(f"http://{S1}:{origin.port}{path}")
            if status != 200:
                raise RuntimeError(f"{label}: {path}: HTTP {status}")
            got += len(body)
            hit += "HIT" in cache
        return got, hit

    try:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            for plan, (got, hit) in zip(plans, pool.map(client, plans), strict=True):
                delivered += got
                requests += len(plan)
                hits += hit
        elapsed = time.monotonic() - start
    finally:
        squid.stop()
        origin.stop()
    requested = {p for plan in plans for p in plan}
    unique = sum(len(origin.body(p) or b"") for p in requested)
    return {
        "origin_bytes": origin.bytes_served,
        "unique_bytes": unique,
        "ratio": origin.bytes_served / unique,
        "hit_ratio": hits / requests,
        "throughput_mb_s": delivered / elapsed / 1e6,
        "client_bytes": delivered,
        "seconds": elapsed,
    }


def main() -> int:
    objects, plans = workload()
    view = squid_view(load_site("local"))
    results = {
        "rendered": run("rendered", lambda port: squid_instance.rendered_config(view, port), objects, plans),
        "stock": run("stock", lambda _port: squid_instance.stock_config(), objects, plans),
    }
    r, s = results["rendered"], results["stock"]
    print(
        f"workload: {CLIENTS} clients, {len(objects)} objects, {r['unique_bytes'] / 1e6:.1f} MB unique, "
        f"{r['client_bytes'] / 1e6:.1f} MB delivered to clients"
    )
    for label, x in results.items():
        print(
            f"{label:>8}: origin {x['origin_bytes'] / 1e6:8.1f} MB = {x['ratio']:6.3f} x unique, "
            f"hit ratio {x['hit_ratio']:.3f}, throughput {x['throughput_mb_s']:7.1f} MB/s, "
            f"{x['seconds']:.1f} s"
        )
    fewer = s["origin_bytes"] / r["origin_bytes"]
    print(f"rendered vs stock: {fewer:.1f} x fewer origin bytes")
    print(
        f"goal origin <= 1.05 x unique: {'met' if r['ratio'] <= 1.05 else 'MISSED'}; "
        f"goal >= 10 x fewer than stock: {'met' if fewer >= 10 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
