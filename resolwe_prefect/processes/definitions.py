"""Process and descriptor-schema definitions: loading YAML, normalizing, validating.

The normalization is what Resolwe's ``register`` command does to a YAML entry
before it checks it against the meta-schema: types get their trailing ``:``,
``run.language`` defaults to ``bash`` and ``flow_collection`` becomes
``entity.type``. On top of that the stored codes are applied (persistence
``CACHED`` -> ``CAC``, scheduling class ``batch`` -> ``BA``) and the version is
written as ``x.y.z``. :func:`validate_process` accepts both the raw and the
normalized form, because normalizing is idempotent.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from resolwe_prefect.core.versions import normalize_version
from resolwe_prefect.schema.fields import validate_values
from resolwe_prefect.schema.metaschemas import load_schema, validator
from resolwe_prefect.schema.types import normalize_type
from resolwe_prefect.schema.walk import is_group, iterate_schema, join_path

#: Execution engines a ``run.language`` may name (Resolwe's default FLOW_EXECUTION_ENGINES).
SUPPORTED_LANGUAGES = ("bash", "workflow", "python")
DEFAULT_LANGUAGE = "bash"
PERSISTENCE_CODES = {"RAW": "RAW", "CACHED": "CAC", "TEMP": "TMP"}
SCHEDULING_CLASS_CODES = {"interactive": "IN", "batch": "BA"}
#: The output a workflow gets from the workflow engine: the ids of its steps, in order.
WORKFLOW_STEPS_FIELD = {"name": "steps", "label": "Steps", "type": "list:data:"}
#: Sections of a process that hold field lists.
PROCESS_FIELD_SECTIONS = ("input", "output")


class DefinitionError(Exception):
    """A definition file or entry that cannot be used; ``str()`` is ``<file>: <slug>: <reason>``."""

    def __init__(self, reason: str, *, file: str | None = None, slug: str | None = None) -> None:
        super().__init__(reason)
        self.file = file
        self.slug = slug
        self.reason = reason

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.slug, self.reason) if part)


# --- loading --------------------------------------------------------------------------------


def load_definitions(path: Path) -> list[dict]:
    """Read a YAML file holding a list of definitions (processes or descriptor schemas).

    An empty file gives an empty list. Unquoted YAML dates are turned back
    into strings, so that every definition can be stored as JSON.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            content = yaml.safe_load(handle)
    except OSError as error:
        raise DefinitionError(f"cannot read file: {error.strerror or error}", file=str(path)) from error
    except yaml.YAMLError as error:
        raise DefinitionError(f"invalid YAML: {error}", file=str(path)) from error
    if content is None:
        return []
    if not isinstance(content, list):
        raise DefinitionError("the file must hold a YAML list of definitions", file=str(path))
    for index, entry in enumerate(content):
        if not isinstance(entry, dict):
            raise DefinitionError(f"entry {index} is not a mapping", file=str(path))
    return [_stringify_dates(entry) for entry in content]


def _stringify_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stringify_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stringify_dates(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# --- normalization --------------------------------------------------------------------------


def normalize_process(raw: dict) -> dict:
    """Return a normalized copy of a process definition (see the module docstring).

    Malformed parts are left alone so that validation can report them.
    """
    process = copy.deepcopy(raw)
    if not isinstance(process, dict):
        return process
    if "flow_collection" in process and "entity" not in process:
        process["entity"] = {"type": process.pop("flow_collection")}
    if isinstance(process.get("type"), str):
        process["type"] = normalize_type(process["type"])
    if isinstance(process.get("category"), str):
        process["category"] = normalize_type(process["category"])
    for section in PROCESS_FIELD_SECTIONS:
        _normalize_field_types(process.get(section))
    if "version" in process:
        process["version"] = _normalize_version(process["version"])
    if process.get("persistence") in PERSISTENCE_CODES:
        process["persistence"] = PERSISTENCE_CODES[process["persistence"]]
    if process.get("scheduling_class") in SCHEDULING_CLASS_CODES:
        process["scheduling_class"] = SCHEDULING_CLASS_CODES[process["scheduling_class"]]
    run = process.get("run")
    if isinstance(run, dict):
        run.setdefault("language", DEFAULT_LANGUAGE)
        if run["language"] == "workflow":
            _add_workflow_steps(process)
    return process


def normalize_descriptor_schema(raw: dict) -> dict:
    """Return a normalized copy of a descriptor schema: field types end with ``:``, ``schema`` defaults to ``[]``."""
    descriptor = copy.deepcopy(raw)
    if not isinstance(descriptor, dict):
        return descriptor
    descriptor.setdefault("schema", [])
    _normalize_field_types(descriptor["schema"])
    if "version" in descriptor:
        descriptor["version"] = _normalize_version(descriptor["version"])
    return descriptor


def _normalize_field_types(fields: Any) -> None:
    if not isinstance(fields, list):
        return
    for field in fields:
        if not isinstance(field, dict):
            continue
        if is_group(field):
            _normalize_field_types(field["group"])
        elif isinstance(field.get("type"), str):
            field["type"] = normalize_type(field["type"])


def _normalize_version(version: Any) -> Any:
    """``1.0`` (YAML float) or ``"1.0"`` -> ``"1.0.0"``; anything unparsable is kept for validation to reject."""
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        return version
    try:
        return normalize_version(version)
    except ValueError:
        return version


def _add_workflow_steps(process: dict) -> None:
    output = process.setdefault("output", [])
    if isinstance(output, list) and not any(isinstance(f, dict) and f.get("name") == "steps" for f in output):
        output.append(dict(WORKFLOW_STEPS_FIELD))


# --- validation -----------------------------------------------------------------------------


def validate_process(definition: dict) -> list[str]:
    """Return every problem of a process definition; an empty list means it may be registered.

    Checks Resolwe's meta-schema, then every ``default`` against its own field
    (type, choices, range, regex), then a few things the meta-schema cannot
    express. Each message starts with the path of the offending part.
    """
    if not isinstance(definition, dict):
        return ["the definition must be a mapping"]
    errors: list[str] = []
    process = normalize_process(definition)
    if "flow_collection" in process:
        errors.append("flow_collection: only one of 'flow_collection' and 'entity' fields allowed")
        process.pop("flow_collection")
    errors += _schema_errors(validator("process"), process)
    run = process.get("run")
    if isinstance(run, dict) and isinstance(run.get("language"), str) and run["language"] not in SUPPORTED_LANGUAGES:
        errors.append(f"run.language: execution engine '{run['language']}' not supported")
    for section in PROCESS_FIELD_SECTIONS:
        errors += _field_list_errors(process.get(section), section)
    return errors


def validate_descriptor_schema(definition: dict) -> list[str]:
    """Return every problem of a descriptor schema definition (meta-schema and defaults)."""
    if not isinstance(definition, dict):
        return ["the definition must be a mapping"]
    descriptor = normalize_descriptor_schema(definition)
    return _schema_errors(validator("descriptor"), descriptor) + _field_list_errors(descriptor.get("schema"), "schema")


def _field_list_errors(fields: Any, section: str) -> list[str]:
    """Duplicate names, invalid regexes and invalid defaults in one field list."""
    if not isinstance(fields, list):
        return []
    errors = _duplicate_names(fields, section)
    for field, path in iterate_schema(fields):
        full_path = join_path(section, path)
        regex = field.get("validate_regex")
        if isinstance(regex, str):
            try:
                re.compile(regex)
            except re.error as error:
                errors.append(f"{full_path}.validate_regex: invalid regular expression: {error}")
                continue
        if "default" in field:
            for problem in validate_values([field], {field["name"]: field["default"]}):
                reason = f"{problem.message} ({problem.detail})" if problem.detail else problem.message
                errors.append(f"{full_path}.default: Default value of field '{full_path}' is not valid: {reason}")
    return errors


def _duplicate_names(fields: list, prefix: str) -> list[str]:
    errors, seen = [], set()
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            continue
        name = field["name"]
        if name in seen:
            errors.append(f"{join_path(prefix, name)}: duplicate field name '{name}'")
        seen.add(name)
        if is_group(field) and isinstance(field["group"], list):
            errors += _duplicate_names(field["group"], join_path(prefix, name))
    return errors


# --- meta-schema error messages ---------------------------------------------------------------

# Branches of the ``oneOf`` in field.json, in order, with the type pattern that selects them.
_FIELD_BRANCHES = ("basic:group", "_single_no_choices", "_single", "_list", "_list_no_choices")


def _branch_patterns() -> dict[int, re.Pattern]:
    definitions = load_schema("field")["definitions"]
    return {
        index: re.compile(definitions[name]["properties"]["type"]["pattern"])
        for index, name in enumerate(_FIELD_BRANCHES)
        if index > 0
    }


_PATTERNS = _branch_patterns()


def _schema_errors(schema_validator: Any, instance: dict) -> list[str]:
    messages = []
    for error in sorted(schema_validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        for path, message in _explain(error, deque(error.absolute_path)):
            where = _format_path(instance, path)
            messages.append(f"{where}: {message}" if where else message)
    return messages


def _explain(error: Any, path: deque) -> list[tuple[deque, str]]:
    """Turn a ``oneOf`` failure on a field into the errors of the branch the field meant to use.

    jsonschema only says "is not valid under any of the given schemas" for a
    bad field; the branch is chosen from the field itself (a group, or the
    pattern its type matches), and its own errors name the real problem.
    """
    field = error.instance
    if error.validator != "oneOf" or not isinstance(field, dict) or not error.context:
        return [(path, error.message)]
    branch: int | None
    if "group" in field:
        branch = 0
    elif "type" not in field:
        return [(path, "a field needs either 'type' or 'group'")]
    else:
        type_ = field["type"]
        branch = next((i for i, p in _PATTERNS.items() if isinstance(type_, str) and p.search(type_)), None)
        if branch is None:
            return [(path + deque(["type"]), f"unknown field type {type_!r}")]
    result = []
    for sub in error.context:
        if sub.relative_schema_path and sub.relative_schema_path[0] == branch:
            result += _explain(sub, path + deque(sub.relative_path))
    return result or [(path, error.message)]


def _format_path(instance: Any, path: Iterable) -> str:
    """``['input', 0, 'group', 1, 'type']`` -> ``input.options.threads.type`` (index when unnamed)."""
    text, node = "", instance
    for key in path:
        child = node[key] if isinstance(node, (dict, list)) else None
        if isinstance(key, int):
            name = child.get("name") if isinstance(child, dict) else None
            if isinstance(name, str) and re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", name):
                text = join_path(text, name)
            else:
                text = f"{text}[{key}]"
        elif key != "group" or not isinstance(child, list):
            text = join_path(text, str(key))
        node = child
    return text
