"""Kickstarts: golden files for turin, pykickstart/shellcheck at render time, and no secret out of place."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from b2ct import secrets
from b2ct.errors import UserError
from b2ct.kickstart import render as ks
from b2ct.render import render_site
from b2ct.site import load_site
from tests.conftest import CHECKOUT, shipped_site, write_site

GOLDEN = CHECKOUT / "tests" / "golden" / "turin" / "kickstart"


def normalised(text: str, key: secrets.OneadminKey) -> str:
    """The per-site key pair differs on every machine: golden files hold placeholders."""
    return text.replace(key.private.strip(), "<oneadmin private key>").replace(
        key.public, "<oneadmin public key>"
    )


@pytest.mark.parametrize("role", ["frontend", "node"])
def test_turin_kickstarts_match_golden_files(scratch_root: Path, role: str) -> None:
    dest = render_site("turin")
    got = normalised((dest / "kickstart" / f"{role}.cfg").read_text(), secrets.oneadmin_key("turin"))
    golden = GOLDEN / f"{role}.cfg"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got)
    assert got == golden.read_text(), f"rerun with UPDATE_GOLDEN=1 if the change to {role}.cfg is intended"


@pytest.mark.parametrize("env", ["turin", "local"])
def test_every_kickstart_passes_the_rhel9_validator_and_shellcheck(scratch_root: Path, env: str) -> None:
    dest = render_site(env)  # render runs the checks; here they are also run by hand, and counted
    for role in ("frontend", "node"):
        scripts = ks.validate((dest / "kickstart" / f"{role}.cfg").read_text(), role)
        assert len(scripts) >= 4, "pre, nochroot post, network, repository and role scripts"
        for script in scripts:
            ks.check_shell(script, role)


def test_a_script_error_is_caught_at_render_time(scratch_root: Path) -> None:
    template = CHECKOUT / "kickstart" / "post-node.sh.j2"
    with pytest.raises(UserError, match=r"kickstart/node.cfg \(script \d+\): bash rejects a script"):
        ks.check_shell(
            template.read_text().replace("fi", "").replace("set -e", "if true; then"),
            "kickstart/node.cfg (script 5)",
        )


def test_a_kickstart_error_names_the_file_and_the_problem() -> None:
    with pytest.raises(
        UserError, match=r"^frontend.cfg: pykickstart \(RHEL9\) rejects it: .*install has been removed"
    ):
        ks.validate("#version=RHEL9\ninstall\n", "frontend.cfg")


def test_render_without_secrets_says_how_to_make_them(scratch_root: Path) -> None:
    (scratch_root / "secrets" / "turin" / "oneadmin_id_rsa").unlink()
    with pytest.raises(UserError, match=r"b2ct secrets init turin"):
        render_site("turin")
    assert not (scratch_root / "build" / "turin").exists(), "nothing half-written"


def test_secrets_init_never_overwrites_and_keeps_the_key_private(scratch_root: Path) -> None:
    key, created = secrets.init("turin")
    assert not created
    before = key.read_text()
    assert secrets.init("turin") == (key, False) and key.read_text() == before
    fresh, created = secrets.init("newsite")
    assert created and fresh.stat().st_mode & 0o777 == 0o600
    assert fresh.parent.stat().st_mode & 0o777 == 0o700
    assert fresh.with_name("oneadmin_id_rsa.pub").read_text().startswith("ssh-rsa ")


SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\$6\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{86}"),  # SHA-512 crypt hashes
    re.compile(r"(?i)(passw(or)?d|passwd|secret)\s*[=:]\s*['\"]?[A-Za-z0-9+/]{12,}"),  # literal passwords
]


def test_no_secret_but_the_oneadmin_key_and_the_root_hash_in_any_output(scratch_root: Path) -> None:
    site = load_site("turin")
    key = secrets.oneadmin_key("turin")
    dest = render_site("turin")
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        text = path.read_text()
        allowed = text.replace(site.install.root_password_hash, "")
        if path.name == "frontend.cfg":
            assert key.private.strip() in text, "the front-end kickstart carries oneadmin's private key"
            assert path.stat().st_mode & 0o077 == 0, "and is therefore private"
            allowed = allowed.replace(key.private.strip(), "")
        found = [p.pattern for p in SECRET_PATTERNS if p.search(allowed)]
        assert not found, f"{path.relative_to(dest)}: {found}"
    node = (dest / "kickstart" / "node.cfg").read_text()
    assert key.public in node and "PRIVATE KEY" not in node


def test_first_boot_makes_the_passwords_on_the_front_end(scratch_root: Path) -> None:
    text = (render_site("turin") / "kickstart" / "frontend.cfg").read_text()
    assert "db_password=$(openssl rand" in text and "one_password=$(openssl rand" in text
    assert 'LISTEN_ADDRESS = "127.0.0.1"' in text, "oned's plain XML-RPC stays on loopback"
    assert "listen 443 ssl;" in text and "proxy_pass http://127.0.0.1:2633/RPC2;" in text


def test_a_site_without_squid_on_the_nodes_installs_none_there(scratch_root: Path) -> None:
    data = shipped_site("turin")
    write_site(scratch_root, "turin", data)
    dest = render_site("turin")
    assert "squid\n" in (dest / "kickstart" / "frontend.cfg").read_text()
    assert "squid\n" not in (dest / "kickstart" / "node.cfg").read_text()
    data["squid"]["host"] = "b2node1"
    write_site(scratch_root, "turin", data)
    dest = render_site("turin")
    assert "B2CT_SQUID_CONF" in (dest / "kickstart" / "node.cfg").read_text()
    assert "B2CT_SQUID_CONF" not in (dest / "kickstart" / "frontend.cfg").read_text()
