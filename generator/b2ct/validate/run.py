"""Run the checks against a site's endpoint and print the report (a table, or JSON for CI)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import pyone

from b2ct.errors import UserError
from b2ct.site import SiteModel
from b2ct.validate.checks import Options, Result, Validation


def credentials() -> str:
    """user:password from the file ONE_AUTH names (OpenNebula's own convention), never from site.yaml."""
    path = Path(os.environ.get("ONE_AUTH") or Path.home() / ".one" / "one_auth")
    if not path.is_file():
        raise UserError(f"ONE_AUTH={path}: no such file; put user:password in it (mode 600) and run again")
    lines = path.read_text().strip().splitlines()
    session = lines[0] if lines else ""
    if ":" not in session:
        raise UserError(f"ONE_AUTH={path}: the first line must be user:password")
    return session


def endpoint(site: SiteModel) -> str:
    return os.environ.get("ONE_XMLRPC") or site.opennebula.endpoint


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so that the smoke VM is cleaned up on SIGTERM as on Ctrl-C


def validate(site: SiteModel, options: Options, as_json: bool = False) -> int:
    url = endpoint(site)
    one = pyone.OneServer(url, session=credentials(), timeout=30)
    check = Validation(site, one, url, options)
    start = time.monotonic()
    if not as_json:
        print(f"validating site {site.site.name} at {url}", flush=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = check.run(progress=(lambda r: None) if as_json else _progress)
    finally:
        signal.signal(signal.SIGTERM, previous)
    took = time.monotonic() - start
    failed = [r for r in results if r.ok is False]
    if as_json:
        doc = {"site": site.site.name, "endpoint": url, "seconds": round(took, 2), "ok": not failed,
               "checks": [r.as_dict() for r in results]}  # fmt: skip
        print(json.dumps(doc, indent=2))
    else:
        print(_table(results))
        verdict = (
            f"{len(failed)} of {len(results)} checks failed"
            if failed
            else f"all {len(results)} checks passed"
        )
        print(f"{verdict} in {took:.1f} s")
    return 1 if failed else 0


def _progress(result: Result) -> None:
    mark = {True: "ok", False: "FAIL", None: "skip"}[result.ok]
    print(f"  {mark:<4} {result.check}", file=sys.stderr, flush=True)


def _table(results: list[Result]) -> str:
    rows = [("check", "result", "figure", "how to fix")]
    rows += [(r.check, {True: "ok", False: "FAIL", None: "skipped"}[r.ok], r.figure, r.fix) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 10)
    return "\n".join(line.rstrip() for line in lines)
