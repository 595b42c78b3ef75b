"""Every profile's Packer template passes `packer validate` (Debian's Packer, which `make setup` installs),
for every site; the image carries the one CVMFS configuration the squid/CVMFS renderer writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from b2ct.cli import main
from b2ct.errors import UserError
from b2ct.image.profiles import PROFILES
from b2ct.image.render import validate_templates
from b2ct.render import render_site


def build_key(folder: Path) -> Path:
    key = folder / "build_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


@pytest.mark.parametrize("env", ["local", "turin"])
def test_every_profile_passes_packer_validate(scratch_root: Path, tmp_path: Path, env: str) -> None:
    packer = render_site(env) / "packer"
    key = build_key(tmp_path)
    results = validate_templates(packer, {"ssh_key_file": str(key)})
    assert set(results) == set(PROFILES) == {"debian12", "almalinux9", "ubuntu2404", "sl6", "ubuntu1404"}
    for profile in PROFILES:
        assert (packer / profile / "files" / "default.local").read_text() == (
            packer.parent / "cvmfs" / "default.local"
        ).read_text(), "one CVMFS renderer for the site and its images"
    assert "END OF LIFE" in (packer / "sl6" / "template.pkr.hcl").read_text()


def test_a_broken_template_is_named(scratch_root: Path, tmp_path: Path) -> None:
    packer = render_site("local") / "packer"
    template = packer / "debian12" / "template.pkr.hcl"
    template.write_text(template.read_text().replace('format               = "qcow2"', 'format = "qcow3"'))
    with pytest.raises(
        UserError, match=r"(?s)debian12/template.pkr.hcl: packer validate rejects it: .*invalid format"
    ):
        validate_templates(packer, {"ssh_key_file": str(build_key(tmp_path))})


def test_the_almalinux9_kickstart_is_checked_at_render_time(scratch_root: Path) -> None:
    ks = (render_site("turin") / "packer" / "almalinux9" / "http" / "ks.cfg").read_text()
    assert (
        ks.startswith("#version=RHEL9")
        and "cloud-init" in ks
        and "one-context" not in ks.split("%packages")[1]
    )


def test_an_iso_profile_is_validated_then_built_only_where_its_iso_is_reachable(
    scratch_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("B2CT_CACHE", str(scratch_root / "cache"))
    monkeypatch.setattr("b2ct.image.build.reachable", lambda url: False)  # as on B2CT's development machines
    assert main(["image", "turin", "--profile", "almalinux9"]) == 2
    out, err = capsys.readouterr()
    assert "packer validate: all 5 profiles' templates are valid" in out
    assert (
        err.startswith("PROFILE=almalinux9: its installer ISO (https://repo.almalinux.org/")
        and "unreachable" in err
    )
    assert main(["image", "turin", "--profile", "sl6"]) == 2
    assert "end of life: generated and validated only" in capsys.readouterr().err
    assert not (scratch_root / "dist" / "turin").exists() or not any(
        (scratch_root / "dist" / "turin").iterdir()
    )
