"""build/<env>/site.json: the validated, defaults-filled site, for tools and humans to inspect."""

from __future__ import annotations

import json

from b2ct.render.output import Output
from b2ct.site import SiteModel


def render(site: SiteModel, out: Output) -> None:
    out.add("site.json", json.dumps(site.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
