"""A process's input schema as the parameter schema of a Prefect deployment.

The Prefect UI draws its "Run" form from a deployment's
``parameter_openapi_schema``, and the server checks submitted parameters
against it when the deployment enforces its schema. Generating that schema
from the process's inputs gives operators a form with the process's own
fields, types, defaults and choices, and turns a wrong value into a refusal
at submission instead of a failed run.

Pure: no Django, no Prefect calls. The launch flow takes the values under
one ``inputs`` parameter (a flow's parameters are fixed by its signature), so
the process's fields appear as one section of the form.
"""

from __future__ import annotations

import copy
from typing import Any

from resolwe_prefect.schema.types import element_type, is_data_type, is_list_type, normalize_type
from resolwe_prefect.schema.walk import is_group

_SCALARS: dict[str, dict[str, Any]] = {
    "basic:string:": {"type": "string"},
    "basic:text:": {"type": "string"},
    "basic:boolean:": {"type": "boolean"},
    "basic:integer:": {"type": "integer"},
    "basic:decimal:": {"type": "number"},
    "basic:date:": {"type": "string", "format": "date"},
    "basic:datetime:": {"type": "string", "format": "date-time"},
    "basic:secret:": {"type": "string", "description": "Handle of a secret."},
    "basic:json:": {"description": "A JSON value, or the id of a Storage object."},
}
_FILE = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "title": "File name"},
        "file_temp": {
            "type": "string",
            "title": "Uploaded file",
            "description": "Temporary name returned by /upload/.",
        },
    },
    "required": ["file"],
}
_URL = {
    "type": "object",
    "properties": {"url": {"type": "string", "title": "URL"}, "name": {"type": "string", "title": "Name"}},
    "required": ["url"],
}
_DIR = {
    "type": "object",
    "properties": {"dir": {"type": "string", "title": "Directory"}},
    "required": ["dir"],
}


def value_schema(type_: str) -> dict[str, Any]:
    """The JSON schema of one value of a Resolwe field type (a ``list:`` type is an array of them)."""
    type_ = normalize_type(type_)
    if is_list_type(type_):
        return {"type": "array", "items": value_schema(element_type(type_))}
    if is_data_type(type_):
        return {"type": "integer", "minimum": 1, "description": f"Id of a Data object of type {type_}"}
    if type_.startswith("basic:file:"):
        return copy.deepcopy(_FILE)
    if type_.startswith("basic:url:"):
        return copy.deepcopy(_URL)
    if type_ == "basic:dir:":
        return copy.deepcopy(_DIR)
    return copy.deepcopy(_SCALARS.get(type_, {}))


def field_schema(field: dict[str, Any], position: int) -> dict[str, Any]:
    """One form field: its type's schema with the field's label, description, default and choices."""
    if is_group(field):
        schema = object_schema(field["group"] if isinstance(field["group"], list) else [])
    else:
        schema = value_schema(str(field.get("type", "")))
        choices = [
            choice["value"] for choice in field.get("choices") or [] if isinstance(choice, dict) and "value" in choice
        ]
        if choices and not field.get("allow_custom_choice", False):
            target = schema["items"] if schema.get("type") == "array" else schema
            target["enum"] = choices
        elif choices:
            schema["examples"] = choices
        if "default" in field:
            schema["default"] = copy.deepcopy(field["default"])
    schema["title"] = str(field.get("label") or field["name"])
    description = " ".join(part for part in (field.get("description"), schema.get("description")) if part)
    if description:
        schema["description"] = description
    schema["position"] = position
    return schema


def is_required(field: dict[str, Any]) -> bool:
    """Resolwe requires a field unless it says ``required: false`` or has a default; a group, when any child is."""
    if is_group(field):
        return any(is_required(child) for child in field["group"] if isinstance(child, dict) and "name" in child)
    return bool(field.get("required", True)) and "default" not in field


def object_schema(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """A level of the input schema (the top or a group) as an object schema, fields in their order."""
    named = [field for field in fields if isinstance(field, dict) and "name" in field]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {str(field["name"]): field_schema(field, position) for position, field in enumerate(named)},
        "additionalProperties": False,
    }
    required = [str(field["name"]) for field in named if is_required(field)]
    if required:
        schema["required"] = required
    return schema


def launch_parameter_schema(process_name: str, input_schema: list[dict[str, Any]]) -> dict[str, Any]:
    """The deployment parameter schema of the launch flow for one process: ``inputs`` and an optional ``name``."""
    inputs = object_schema(input_schema)
    inputs.update(title=f"Inputs of {process_name}", position=0)
    if "required" not in inputs:
        inputs["default"] = {}
    return {
        "title": "Parameters",
        "type": "object",
        "properties": {
            "inputs": inputs,
            "name": {
                "title": "Data name",
                "description": "Name of the new Data object; empty takes the process's naming template.",
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": None,
                "position": 1,
            },
        },
        "required": ["inputs"] if "required" in inputs else [],
        "definitions": {},
    }
