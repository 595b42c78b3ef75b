"""Render build/<env>/kickstart/<role>.cfg and check every one: pykickstart (RHEL9), bash -n, shellcheck."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from b2ct.errors import UserError
from b2ct.kickstart.view import ROLES, KickstartView, kickstart_view
from b2ct.render.output import Output
from b2ct.render.templates import render as render_template
from b2ct.secrets import OneadminKey
from b2ct.site import SiteModel

FOLDER = "kickstart"
# Scripts that a %post writes to the installed system hide in quoted here-documents: checked on their own.
EMBEDDED = re.compile(r"<<'(B2CT_\w+)'\n(#!/bin/bash\n.*?)^\1$", re.DOTALL | re.MULTILINE)


def kickstart(view: KickstartView) -> str:
    return render_template(f"kickstart/{view.role}.ks.j2", v=view)


def render(site: SiteModel, out: Output, oneadmin: OneadminKey) -> None:
    for role in ROLES:
        view = kickstart_view(site, role, oneadmin)
        if view.hosts:
            out.add(f"{FOLDER}/{role}.cfg", kickstart(view), mode=0o600 if role == "frontend" else 0o644)


def validate(text: str, name: str, version: str = "RHEL9") -> list[str]:
    """pykickstart's handler for version; warnings (deprecations) count as errors, as in ksvalidator."""
    from pykickstart.errors import KickstartError, KickstartParseWarning
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    handler = makeVersion(version)
    # The %include names a file that the %pre makes at install time: it cannot be followed here.
    parser = KickstartParser(handler, followIncludes=False, unknownSectionIsFatal=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", KickstartParseWarning)
        try:
            parser.readKickstartFromString(text)
        except (KickstartError, KickstartParseWarning) as exc:
            problem = " ".join(str(exc).split())
            raise UserError(f"{name}: pykickstart ({version}) rejects it: {problem}") from None
    return [s.script for s in handler.scripts]


def check_shell(script: str, name: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(script if script.startswith("#!") else "#!/bin/bash\n" + script)
    try:
        commands = [["bash", "-n", f.name]]
        if shutil.which("shellcheck"):
            commands.append(["shellcheck", "--shell=bash", "--severity=warning", f.name])
        for cmd in commands:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                detail = (proc.stdout + proc.stderr).replace(f.name, name).strip()
                raise UserError(f"{name}: {cmd[0]} rejects a script:\n{detail}")
    finally:
        Path(f.name).unlink()


def check(staged: Path) -> None:
    for cfg in sorted((staged / FOLDER).glob("*.cfg")):
        name = f"{FOLDER}/{cfg.name}"
        for i, script in enumerate(validate(cfg.read_text(), name)):
            check_shell(script, f"{name} (script {i + 1})")
            for match in EMBEDDED.finditer(script):
                check_shell(match.group(2), f"{name} (script {i + 1}, {match.group(1)})")
