"""Load environments/<site>/site.yaml into a SiteModel, or fail with one line per problem."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from b2ct import paths
from b2ct.errors import UserError
from b2ct.site.model import SiteModel
from b2ct.site.rules import check_site


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; in a site file that hides a mistake."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def known_sites() -> list[str]:
    return sorted(p.parent.name for p in paths.environments().glob("*/site.yaml"))


def site_file(env: str) -> Path:
    path = paths.environments() / env / "site.yaml"
    if not path.is_file():
        known = ", ".join(known_sites()) or "none"
        raise UserError(f"{_shown(path)}: no such site {env!r} (known sites: {known})")
    return path


def _shown(path: Path) -> str:
    """Paths relative to the checkout, as the admin typed them."""
    try:
        return str(path.resolve().relative_to(paths.root()))
    except ValueError:
        return str(path)


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-after", "literal[", "constrained-str")):
            continue  # pydantic's names for union branches, not the admin's
        elif not _PLAIN_KEY.match(part):
            out += f"[{part!r}]"  # a key with spaces or control characters: quoted, still on one line
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _describe(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see schemas/site.schema.json for allowed keys)"
    if kind == "missing":
        return "required field is missing"
    msg: str = err["msg"]
    return msg.removeprefix("Value error, ")


def parse_site(data: Any, source: str) -> SiteModel:
    """Validate already-loaded YAML data; `source` names the file in every message."""
    if not isinstance(data, dict):
        raise UserError(
            f"{source}: (top level): expected a mapping of sections (site, opennebula, hosts, ...)"
        )
    try:
        site = SiteModel.model_validate(data)
    except ValidationError as exc:
        by_path: dict[str, list[str]] = {}
        for err in exc.errors():
            # A `value | ask` field reports both branches; say it once, with `ask` as the alternative.
            if err["type"] == "literal_error" and err.get("ctx", {}).get("expected") == "'ask'":
                by_path.setdefault(_field_path(err["loc"]), []).append("or `ask`")
                continue
            by_path.setdefault(_field_path(err["loc"]), []).insert(0, _describe(err))
        lines = (f"{source}: {path}: {' '.join(msgs)}" for path, msgs in by_path.items())
        raise UserError(*(line.replace("\n", "\\n") for line in lines)) from None
    problems = check_site(site)
    if problems:
        raise UserError(*(f"{source}: {p.path}: {p.message}" for p in problems))
    return site


def load_site_file(path: Path) -> SiteModel:
    source = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{source}: cannot read: {exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(YAML)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserError(f"{source}: {where}: not valid YAML: {problem}") from None
    return parse_site(data, source)


def load_site(env: str) -> SiteModel:
    return load_site_file(site_file(env))
