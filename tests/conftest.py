"""Shared fixtures: site data to mutate, and a scratch checkout root for CLI runs."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from b2ct import paths, secrets

CHECKOUT = paths.checkout()


def shipped_site(env: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CHECKOUT / "environments" / env / "site.yaml").read_text())
    return copy.deepcopy(data)


@pytest.fixture(scope="session")
def site_secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """secrets/<env>/ for every shipped site, made once per run (an RSA key pair takes a moment)."""
    root = tmp_path_factory.mktemp("secrets-root")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("B2CT_ROOT", str(root))
        for env in ("local", "turin"):
            secrets.init(env)
    return root / "secrets"


@pytest.fixture
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site_secrets: Path) -> Path:
    """A checkout root with a copy of environments/ and secrets/, so CLI runs write only under tmp_path."""
    root = tmp_path / "root"
    shutil.copytree(CHECKOUT / "environments", root / "environments")
    shutil.copytree(site_secrets, root / "secrets")
    monkeypatch.setenv("B2CT_ROOT", str(root))
    return root


def write_site(root: Path, env: str, data: dict[str, Any] | str) -> Path:
    path = root / "environments" / env / "site.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path
