"""The one jinja2 Environment every renderer uses."""

from __future__ import annotations

from functools import cache

import jinja2

from b2ct import paths


@cache
def environment() -> jinja2.Environment:
    # Templates live in the top-level folders named by the design (kickstart/, packer/, terraform/) and, for
    # the small configuration files that are no target of their own (squid, CVMFS), inside the package.
    loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(str(paths.templates())), jinja2.PackageLoader("b2ct", "templates")]
    )
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,  # a missing view-model field is a bug, never an empty string
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    return env


def render(template: str, **view: object) -> str:
    return environment().get_template(template).render(**view)
