"""Render squid.conf, its logrotate file and CVMFS's default.local into build/<env>/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from b2ct.errors import UserError
from b2ct.render.output import Output
from b2ct.render.templates import render as render_template
from b2ct.site import SiteModel
from b2ct.squid.view import CvmfsView, SquidView, cvmfs_view, squid_view

SQUID_CONF = "squid/squid.conf"
DEFAULT_LOCAL = "cvmfs/default.local"


def squid_conf(view: SquidView) -> str:
    return render_template("squid/squid.conf.j2", v=view)


def default_local(view: CvmfsView) -> str:
    return render_template("cvmfs/default.local.j2", v=view)


def render(site: SiteModel, out: Output) -> None:
    view = squid_view(site)
    out.add(SQUID_CONF, squid_conf(view))
    out.add("squid/logrotate-squid", render_template("squid/logrotate.j2", v=view))
    out.add(DEFAULT_LOCAL, default_local(cvmfs_view(site)))


def parse(conf: Path) -> None:
    """`squid -k parse` on a rendered squid.conf; raises UserError with squid's own complaint."""
    squid = shutil.which("squid") or "/usr/sbin/squid"
    proc = subprocess.run(
        [squid, "-k", "parse", "-f", str(conf)], capture_output=True, text=True, check=False
    )
    problems = [
        line for line in proc.stderr.splitlines() if "ERROR" in line or "FATAL" in line or "WARNING" in line
    ]
    if proc.returncode != 0 or problems:
        detail = "; ".join(problems) or proc.stderr.strip()[-400:]
        raise UserError(f"{conf.name}: squid -k parse rejected the rendered configuration: {detail}")


def check(staged: Path) -> None:
    """Run at render time when squid is installed (it is, after `make setup`)."""
    if shutil.which("squid") or Path("/usr/sbin/squid").exists():
        parse(staged / SQUID_CONF)
