"""Render build/<env>/packer/<profile>/: a Packer template, the shared provisioning scripts, B2CT's files for
the image (CVMFS configuration from the squid/CVMFS renderer, contextualisation and monitor units), and the
installer's answer files."""

from __future__ import annotations

import contextlib
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from b2ct import names, paths
from b2ct.errors import UserError
from b2ct.image.base import ROOT_LABEL
from b2ct.image.profiles import PROFILES, Profile
from b2ct.kickstart.render import validate as validate_kickstart
from b2ct.render.output import Output
from b2ct.render.templates import render as render_template
from b2ct.site import SiteModel
from b2ct.squid.render import default_local
from b2ct.squid.view import cvmfs_view

FOLDER = "packer"
STATIC_FILES = ("90_b2ct.cfg", "b2ct-context", "b2ct-context.service", "b2ct-monitor", "b2ct-monitor.service")
SCRIPTS = ("cvmfs.sh", "context.sh", "monitor.sh", "finalize.sh")
IDLE_GRACE_S, BOOT_GRACE_S, POLL_S = 600, 2400, 30  # VMDIRAC's figures: 10 min idle, 40 min to start
PILOT_PATTERN = "run_pilot\\.sh|dirac-pilot|JobAgent"


@dataclass(frozen=True)
class ImageView:
    site: str
    profile: str
    description: str
    eol: bool
    iso_url: str
    iso_checksum: str
    boot_command: list[str]
    disk_mb: int
    image_file: str
    accelerator: str
    root_label: str
    scripts: list[str]
    idle_grace: int
    boot_grace: int
    poll: int
    pilot_pattern: str


def image_file(site: SiteModel, profile: str) -> str:
    return f"{names.worker_image(site, profile)}.qcow2"


def image_view(site: SiteModel, profile: Profile) -> ImageView:
    return ImageView(
        site=site.site.name,
        profile=profile.name,
        description=profile.description,
        eol=profile.eol,
        iso_url=profile.iso_url,
        iso_checksum=profile.iso_checksum,
        boot_command=profile.boot_command,
        disk_mb=site.worker.disk_gb * 1024,
        image_file=image_file(site, profile.name),
        accelerator="tcg",  # KVM is broken on B2CT's build machines; `make image ACCEL=kvm` at a site
        root_label=ROOT_LABEL,
        scripts=(["bootloader-debian.sh"] if profile.bootloader else []) + list(SCRIPTS),
        idle_grace=IDLE_GRACE_S,
        boot_grace=BOOT_GRACE_S,
        poll=POLL_S,
        pilot_pattern=PILOT_PATTERN,
    )


def render(site: SiteModel, out: Output) -> None:
    packer = paths.checkout() / "packer"
    for profile in PROFILES.values():
        view = image_view(site, profile)
        base = f"{FOLDER}/{profile.name}"
        template = "packer/debian12.pkr.hcl.j2" if profile.bootloader else "packer/iso.pkr.hcl.j2"
        out.add(f"{base}/template.pkr.hcl", render_template(template, v=view))
        for script in view.scripts:
            out.add(f"{base}/scripts/{script}", (packer / "scripts" / script).read_text(), mode=0o755)
        for name in STATIC_FILES:
            source = packer / "files" / name
            out.add(f"{base}/files/{name}", source.read_text(), mode=source.stat().st_mode & 0o777)
        out.add(f"{base}/files/default.local", default_local(cvmfs_view(site)))  # the one CVMFS renderer
        out.add(f"{base}/files/monitor.conf", render_template("packer/monitor.conf.j2", v=view))
        for name, source_template in profile.http_files.items():
            out.add(f"{base}/http/{name}", render_template(source_template, v=view))


def check(staged: Path) -> None:
    """Installer answer files are checked at render time; `packer validate` runs in validate_templates."""
    for profile in PROFILES.values():
        if profile.kickstart_version:
            ks = f"{FOLDER}/{profile.name}/http/ks.cfg"
            validate_kickstart((staged / ks).read_text(), ks, profile.kickstart_version)


def packer_binary() -> str:
    found = shutil.which("packer")
    if not found:
        raise UserError("packer: not installed; run `make setup`")
    return found


def validate_templates(folder: Path, variables: dict[str, str]) -> dict[str, str]:
    """`packer validate` (through packer-py) every profile's template, from its folder as the build runs it.

    Packer fetches an ISO's checksum file while validating; where that file is unreachable (B2CT's development
    machines), the template is validated with a placeholder checksum instead, and the result says so.
    """
    from packerpy import PackerExecutable

    packer = PackerExecutable(executable_path=packer_binary(), machine_readable=False)
    results = {}
    for name, profile in PROFILES.items():
        given = dict(variables)
        note = ""
        if profile.iso_checksum.startswith("file:") and not reachable(profile.iso_checksum[5:]):
            given["iso_checksum"] = "sha256:" + "0" * 64
            note = " (checksum file unreachable here: validated with a placeholder checksum)"
        where = folder / name
        with contextlib.chdir(where):  # the templates name their scripts and files relative to their folder
            code, out, err = packer.validate("template.pkr.hcl", var=given)
        text = (out + err).decode(errors="replace").strip()
        if code != 0:
            raise UserError(f"{where}/template.pkr.hcl: packer validate rejects it: {text}")
        results[name] = text + note
    return results


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10):
            return True
    except (OSError, ValueError):
        return False
