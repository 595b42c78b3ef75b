"""`make image`: render and validate every profile's template, then bake the site's worker image with Packer.

The result lands in dist/<env>/ with a manifest beside it (sha256, size, profile, package versions); nothing
appears there before the build has finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from b2ct import paths
from b2ct.errors import UserError
from b2ct.image import base as debian_base
from b2ct.image.profiles import PROFILES
from b2ct.image.render import image_file, packer_binary, reachable, validate_templates
from b2ct.render import render_site
from b2ct.site import load_site


def _packer(folder: Path, variables: dict[str, str], log: Path) -> None:
    """packer build, its output shown as it comes (with the time since start) and kept in log."""
    cmd = [packer_binary(), "build", "-color=false", *(f"-var={k}={v}" for k, v in variables.items()), "."]
    env = {**os.environ, "PACKER_CACHE_DIR": str(paths.cache() / "packer"), "CHECKPOINT_DISABLE": "1"}
    start = time.monotonic()
    with (
        log.open("w") as keep,
        subprocess.Popen(
            cmd, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            keep.write(line)
            print(f"  [{time.monotonic() - start:5.0f} s] {line.rstrip()}", flush=True)
    if proc.returncode != 0:
        raise UserError(f"packer build failed (exit {proc.returncode}); the whole output is in {log}")


def _manifest(
    image: Path, profile: str, site: str, packages: Path, seconds: float, base_cached: bool
) -> dict[str, object]:
    sha = hashlib.sha256()
    with image.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha.update(chunk)
    versions = dict(line.split(" ", 1) for line in packages.read_text().splitlines() if " " in line)
    return {
        "image": image.name,
        "site": site,
        "profile": profile,
        "sha256": sha.hexdigest(),
        "size_bytes": image.stat().st_size,
        "build_seconds": round(seconds, 1),
        "base_from_cache": base_cached,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "packages": versions,
    }


def build_image(env: str, profile_name: str | None = None, accelerator: str = "tcg") -> Path:
    start = time.monotonic()
    site = load_site(env)
    profile = PROFILES[profile_name or site.worker.profile]
    packer_dir = render_site(env) / "packer"
    key = debian_base.build_key()
    validate_templates(packer_dir, {"ssh_key_file": str(key)})
    print(f"packer validate: all {len(PROFILES)} profiles' templates are valid ({packer_dir})", flush=True)
    if profile.eol:
        raise UserError(
            f"PROFILE={profile.name}: {profile.description} is end of life: generated and validated only"
        )
    if not profile.bootloader and not reachable(profile.iso_url):
        raise UserError(
            f"PROFILE={profile.name}: its installer ISO ({profile.iso_url}) is unreachable from here; the "
            "template "
            f"is rendered and valid in {packer_dir / profile.name}: build it where the ISO can be downloaded"
        )
    dist = paths.dist(env)
    work = debian_base.scratch(dist)
    try:
        folder = packer_dir / profile.name
        variables = {"ssh_key_file": str(key), "output_dir": str(work / "output"), "accelerator": accelerator}
        base_cached = True
        if profile.bootloader:
            base = debian_base.build_base(work, site.worker.disk_gb, key)
            base_cached = base.cached
            variables |= {
                "base_image": str(base.disk),
                "kernel": str(base.kernel),
                "initrd": str(base.initrd),
            }
        else:
            shutil.copy(key.with_suffix(".pub"), folder / "http" / "build_key.pub")
        print(f"packer build: {profile.name} under QEMU ({accelerator})", flush=True)
        _packer(folder, variables, work / "packer.log")
        built = work / "output" / image_file(site, profile.name)
        seconds = time.monotonic() - start
        manifest = _manifest(built, profile.name, env, work / "output" / "packages.txt", seconds, base_cached)
        target = dist / built.name
        os.replace(built, target)
        manifest_path = target.with_suffix(".manifest.json")
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = target.stat().st_size / 2**20
    print(
        f"wrote {target} ({size:.0f} MiB, sha256 {str(manifest['sha256'])[:16]}...) in {seconds:.0f} s",
        file=sys.stderr,
    )
    return target
