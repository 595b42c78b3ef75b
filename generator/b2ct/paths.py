"""Where things live in a B2CT checkout. B2CT_ROOT overrides the root (tests use copies)."""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    env = os.environ.get("B2CT_ROOT")
    if env:
        return Path(env).resolve()
    return checkout()


def environments() -> Path:
    return root() / "environments"


def build(env: str) -> Path:
    return root() / "build" / env


def dist(env: str) -> Path:
    """Images built for a site (ISO, USB image, worker image): large, kept apart from the rendered tree."""
    return root() / "dist" / env


def cache() -> Path:
    """Heavy, reusable builds (the worker image's base file system): outside the checkout, kept for reuse."""
    if os.environ.get("B2CT_CACHE"):
        return Path(os.environ["B2CT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "b2ct"


def tools() -> Path:
    return root() / ".tools"


def checkout() -> Path:
    """The B2CT source checkout (templates, modules), whatever B2CT_ROOT says."""
    return Path(__file__).resolve().parents[2]


def templates() -> Path:
    return checkout()
