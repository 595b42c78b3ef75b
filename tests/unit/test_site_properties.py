"""Property: whatever a site file is mutated into, loading it either succeeds or fails with clean lines."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2ct.errors import UserError
from b2ct.site.loader import parse_site
from tests.conftest import shipped_site

SOURCE = "environments/turin/site.yaml"
BASE = shipped_site("turin")

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["ask", "10.1.0.10", "10.1.0.0/24", "", "frontend", "256.1.1.1", "0.0.0.0/0"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


ALL_PATHS = _paths(BASE)


@st.composite
def mutated_sites(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(ALL_PATHS))
        node: Any = data
        try:
            for key in path[:-1]:
                node = node[key]
            if draw(st.booleans()) and isinstance(node, dict):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = draw(junk)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this branch
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sites())
def test_mutated_sites_never_raise_anything_but_user_errors(data: Any) -> None:
    try:
        parse_site(data, SOURCE)
    except UserError as exc:
        assert exc.lines
        for line in exc.lines:
            assert line.startswith(f"{SOURCE}: "), line
            assert "\n" not in line
