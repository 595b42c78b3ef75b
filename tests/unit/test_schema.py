"""The committed JSON Schema is the one the model exports; a stale copy fails here."""

from __future__ import annotations

import json

from b2ct import paths
from b2ct.schema import SCHEMA_FILE, site_schema


def test_committed_schema_is_in_sync() -> None:
    committed = (paths.checkout() / SCHEMA_FILE).read_text()
    assert committed == site_schema(), (
        "schemas/site.schema.json is stale: run `.venv/bin/b2ct schema --write`"
    )


def test_schema_rejects_unknown_keys_and_requires_sections() -> None:
    schema = json.loads(site_schema())
    assert schema["additionalProperties"] is False
    assert {"site", "opennebula", "hosts", "networks", "install"} <= set(schema["required"])
