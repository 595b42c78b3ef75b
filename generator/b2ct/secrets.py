"""Per-site secrets under secrets/<env>/ (git-ignored, 0700/0600).

The only secret B2CT makes is oneadmin's SSH key pair: the front-end's oneadmin drives the KVM nodes with it.
Its private half travels inside the front-end kickstart (and so on the USB key and a remastered ISO); every
other password is generated on the front-end at first boot and never leaves it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from b2ct import paths
from b2ct.errors import UserError
from b2ct.process import run

ONEADMIN_KEY = "oneadmin_id_rsa"


@dataclass(frozen=True)
class OneadminKey:
    private: str
    public: str


def folder(env: str) -> Path:
    return paths.root() / "secrets" / env


def init(env: str) -> tuple[Path, bool]:
    """Create the site's oneadmin key pair unless it exists. Returns (private key path, created)."""
    dest = folder(env)
    key = dest / ONEADMIN_KEY
    if key.exists():
        return key, False
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.parent.chmod(0o700)
    dest.mkdir(mode=0o700, exist_ok=True)
    # Generate beside the final place, then rename: a crash never leaves half a key pair.
    work = Path(tempfile.mkdtemp(prefix=".keygen-", dir=dest))
    try:
        run(
            ["ssh-keygen", "-q", "-t", "rsa", "-b", "4096", "-N", "", "-C", f"oneadmin@{env}",
             "-f", work / ONEADMIN_KEY],
            f"making secrets/{env}/{ONEADMIN_KEY}",
        )  # fmt: skip
        (work / ONEADMIN_KEY).chmod(0o600)
        os.replace(work / f"{ONEADMIN_KEY}.pub", dest / f"{ONEADMIN_KEY}.pub")
        os.replace(work / ONEADMIN_KEY, key)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return key, True


def oneadmin_key(env: str) -> OneadminKey:
    key = folder(env) / ONEADMIN_KEY
    pub = key.with_name(f"{ONEADMIN_KEY}.pub")
    if not key.exists() or not pub.exists():
        raise UserError(
            f"secrets/{env}/{ONEADMIN_KEY}: missing; create the site's oneadmin key pair with "
            f"`b2ct secrets init {env}` (make render/iso/usb do this for you)"
        )
    if key.stat().st_mode & 0o077:
        raise UserError(f"secrets/{env}/{ONEADMIN_KEY}: readable by others; fix with chmod 600 {key}")
    return OneadminKey(private=key.read_text(), public=pub.read_text().strip())
