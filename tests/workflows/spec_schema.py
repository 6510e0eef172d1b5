"""Validate a body against a component schema of one of the official OpenAPI specs."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPECS_DIR = Path(os.environ.get("ZOOMSYNC_API_SPECS", Path(__file__).resolve().parents[2].parent / "shared" / "specs"))


@lru_cache
def _spec(name: str) -> dict[str, Any]:
    return json.loads((SPECS_DIR / "hubspot" / name).read_text())


def validate_against_component(spec_name: str, component: str, instance: Any) -> None:
    spec = _spec(spec_name)
    registry = Registry().with_resource("spec", Resource.from_contents(spec, default_specification=DRAFT4))
    schema = {"$ref": f"spec#/components/schemas/{component}"}
    OAS30Validator(schema, registry=registry).validate(instance)
