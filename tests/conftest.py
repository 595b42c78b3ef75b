"""Shared fixtures: site data to mutate, and a scratch checkout root for CLI runs."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from b2ct import paths

CHECKOUT = paths.checkout()


def shipped_site(env: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CHECKOUT / "environments" / env / "site.yaml").read_text())
    return copy.deepcopy(data)


@pytest.fixture
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout root with a copy of environments/, so CLI runs write only under tmp_path."""
    root = tmp_path / "root"
    shutil.copytree(CHECKOUT / "environments", root / "environments")
    monkeypatch.setenv("B2CT_ROOT", str(root))
    return root


def write_site(root: Path, env: str, data: dict[str, Any] | str) -> Path:
    path = root / "environments" / env / "site.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path
