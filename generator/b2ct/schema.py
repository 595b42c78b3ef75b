"""The JSON Schema of site.yaml, for editors (yaml-language-server) and for review."""

from __future__ import annotations

import json

from b2ct import paths
from b2ct.site import SiteModel

SCHEMA_FILE = "schemas/site.schema.json"


def site_schema() -> str:
    schema = SiteModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "B2CT site description (environments/<site>/site.yaml)"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def committed_schema_path() -> str:
    return str(paths.root() / SCHEMA_FILE)
