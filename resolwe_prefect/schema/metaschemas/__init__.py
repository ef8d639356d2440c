"""JSON meta-schemas for process definitions, descriptor schemas and field values.

The files mirror Resolwe's ``processSchema.json``, ``fieldSchema.json``,
``descriptorSchema.json`` and ``typeSchema.json``. Resolwe splices the field
schema into the others by text substitution; here the field schema is a
separate resource that the others reference as ``urn:resolwe-prefect:field``,
so every file stays valid JSON.

All schemas are draft-04 on purpose: draft-04 does not count ``42.0`` as an
integer, which is what Resolwe's validation (and its tests) rely on.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

FIELD_SCHEMA_URI = "urn:resolwe-prefect:field"


def load_schema(name: str) -> dict[str, Any]:
    """Return the parsed JSON of ``<name>.json`` from this package."""
    text = resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _registry() -> Registry:
    field = Resource.from_contents(load_schema("field"), default_specification=DRAFT4)
    return Registry().with_resource(FIELD_SCHEMA_URI, field)


@cache
def validator(name: str) -> jsonschema.Draft4Validator:
    """Return a (cached) draft-04 validator for ``process``, ``descriptor``, ``field`` or ``type``."""
    if name not in {"process", "descriptor", "field", "type"}:
        raise ValueError(f"Unknown schema: {name!r}")
    schema = load_schema(name)
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, registry=_registry())
