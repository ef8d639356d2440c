"""Values of process inputs/outputs and descriptors, checked against their field schema.

This is Resolwe's ``validate_schema`` and ``fill_with_defaults``, with one
difference: Resolwe raises on the first problem, here every problem is
returned as a :class:`.errors.FieldError` so that an API can show them all. Messages
keep Resolwe's wording, because clients (and the conformance cases) match on
them.

The module is pure: references to other objects (Data, Storage) and the
sources a server would read (a ``file_temp``, a URL to download) are checked
only through the callbacks the caller passes, so it needs no database.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from .errors import FieldError, required_message
from .metaschemas import validator
from .types import element_type, is_list_type, type_matches
from .walk import FieldSchema, FieldVisit, Schema, iterate_fields

KINDS = ("input", "output", "descriptor")


# --- defaults -------------------------------------------------------------------------------


def fill_defaults(schema: Schema | None, values: Any) -> dict:
    """Return a copy of ``values`` with defaults of missing fields filled in.

    Like Resolwe's ``fill_with_defaults``, a group that is missing is added as a
    dict (so its defaulted children have somewhere to go), and a value that is
    present, even ``None``, is never replaced. Neither argument is modified.
    """
    result = copy.deepcopy(values) if isinstance(values, dict) else {}
    for visit in iterate_fields(result, schema, missing=True, groups=True):
        if visit.present:
            continue
        if visit.kind == "group":
            visit.values[visit.name] = {}  # the walk then goes on inside it
        elif "default" in visit.field:
            visit.values[visit.name] = copy.deepcopy(visit.field["default"])
    return result


# --- validation -----------------------------------------------------------------------------


DataResolver = Callable[[int], "str | None"]
StorageResolver = Callable[[int], bool]
#: ``(field type, value)`` of a ``basic:file:`` or ``basic:url:`` value → why it is refused, or ``None``.
SourceChecker = Callable[[str, dict], "str | None"]


def validate_values(
    schema: Schema | None,
    values: Any,
    *,
    kind: str = "input",
    resolve_data: DataResolver | None = None,
    check_required: bool = True,
    resolve_storage: StorageResolver | None = None,
    check_source: SourceChecker | None = None,
) -> list[FieldError]:
    """Check ``values`` against ``schema`` and return every problem (empty list = valid).

    * ``kind`` (``input``/``output``/``descriptor``) only names the object in
      messages; the rules are the same for all three, as in Resolwe.
    * ``resolve_data(id)`` returns the process type of Data ``id`` or ``None``
      when it does not exist; without it, Data references are not looked up.
    * ``resolve_storage(id)`` tells whether Storage ``id`` exists (values of
      ``basic:json:`` fields); without it, Storage ids are not looked up.
    * ``check_required=False`` skips the required check, for objects that are
      still being filled (outputs of a running process).
    * ``check_source(type, value)`` vets every well-typed ``basic:file:`` and
      ``basic:url:`` value (where a program would read it from) and returns
      the reason it is refused; errors get the code ``source``.

    Errors come in Resolwe's order: value errors in schema order, then keys
    that the schema does not know, then missing required fields.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if not isinstance(values, dict):
        return [FieldError("", f"The {kind} must be an object, not {_json_type(values)}.", code="type")]
    checker = _Checker(resolve_data, resolve_storage, check_required, check_source)
    checker.check(schema, values)
    return checker.invalid + checker.unknown + checker.missing


class _Checker:
    """Walks one values dict; keeps the three error lists apart to order them like Resolwe."""

    def __init__(
        self,
        resolve_data: DataResolver | None,
        resolve_storage: StorageResolver | None,
        check_required: bool,
        check_source: SourceChecker | None = None,
    ) -> None:
        self.resolve_data = resolve_data
        self.resolve_storage = resolve_storage
        self.check_required = check_required
        self.check_source = check_source
        self.invalid: list[FieldError] = []
        self.unknown: list[FieldError] = []
        self.missing: list[FieldError] = []

    def check(self, schema: Schema | None, values: dict) -> None:
        # A missing (or null) group is walked as an empty one: its required
        # children are then reported as missing, as Resolwe does.
        for visit in iterate_fields(values, schema, missing=True, groups=True, unknown=True):
            if visit.kind == "unknown":
                message = f"Field definition ({visit.name}) missing in schema"
                self.unknown.append(FieldError(visit.path, message, code="unknown"))
            elif visit.kind == "group":
                self.group(visit)
            elif not visit.present:
                if self.check_required and visit.field.get("required", True):
                    self.missing.append(FieldError(visit.path, required_message([visit.name]), code="required"))
            else:
                self.value(visit.field, visit.value, visit.path)

    def group(self, visit: FieldVisit) -> None:
        if visit.value is not None and not isinstance(visit.value, Mapping):
            message = f"Value of group '{visit.name}' must be an object, not {_json_type(visit.value)}."
            self.invalid.append(FieldError(visit.path, message, code="type"))

    def value(self, field: FieldSchema, value: Any, path: str) -> None:
        name = field["name"]
        required = field.get("required", True)
        if value is None and not required:
            return  # Resolwe treats an optional null as a missing value.
        type_ = str(field.get("type", ""))
        error = check_type(type_, value)
        if error is not None:
            error.path = path
            self.invalid.append(error)
            return

        choices = [choice.get("value") for choice in field.get("choices") or [] if isinstance(choice, dict)]
        if choices and not field.get("allow_custom_choice", False) and not _in_choices(value, choices, type_):
            self.invalid.append(
                FieldError(
                    path,
                    f"Value of field '{name}' must match one of predefined choices. Current value: {value}",
                    code="choices",
                )
            )

        items = list(enumerate(value)) if is_list_type(type_) else [(None, value)]
        base = element_type(type_)
        for index, item in items:
            item_path = path if index is None else f"{path}[{index}]"
            if base in ("basic:file:", "basic:file:html:", "basic:url:download:", "basic:url:view:", "basic:url:link:"):
                if base.startswith("basic:file:"):
                    self.file_name(item, field.get("validate_regex"), item_path)
                self.source(base, item, item_path)
            elif base == "basic:json:":
                self.storage(item, item_path)
            elif base.startswith("data:"):
                self.data(item, base, item_path)
            elif base in ("basic:integer:", "basic:decimal:"):
                self.range(item, field.get("range"), name, item_path)

    def file_name(self, value: dict, regex: str | None, path: str) -> None:
        if regex and not re.search(regex, value["file"]):
            message = f"File name {value['file']} does not match regex {regex}"
            self.invalid.append(FieldError(path, message, code="regex"))

    def source(self, type_: str, value: dict, path: str) -> None:
        reason = self.check_source(type_, value) if self.check_source is not None else None
        if reason:
            self.invalid.append(FieldError(path, reason, code="source"))

    def storage(self, storage_id: int, path: str) -> None:
        if self.resolve_storage is not None and not self.resolve_storage(storage_id):
            message = f"Referenced `Storage` object does not exist (id:{storage_id})"
            self.invalid.append(FieldError(path, message, code="missing_storage"))

    def data(self, data_id: int, required_type: str, path: str) -> None:
        if self.resolve_data is None:
            return
        actual = self.resolve_data(data_id)
        if actual is None:
            self.invalid.append(
                FieldError(path, f"Referenced `Data` object does not exist (id:{data_id})", code="missing_data")
            )
        elif not type_matches(required_type, actual):
            self.invalid.append(
                FieldError(
                    path,
                    f"Data object of type `{required_type}` is required, but type `{actual}` is given. (id:{data_id})",
                    code="data_type",
                )
            )

    def range(self, value: float, interval: Any, name: str, path: str) -> None:
        if not isinstance(interval, (list, tuple)) or len(interval) != 2:
            return
        low, high = interval
        if value < low or value > high:
            self.invalid.append(
                FieldError(
                    path,
                    f"Value of field '{name}' is out of range. It should be between {low} and {high}.",
                    code="range",
                )
            )


def check_type(type_: str, value: Any) -> FieldError | None:
    """Check one value against its field type with the type meta-schema.

    The message is the one Resolwe gets from jsonschema for the same check
    (``{'type': ..., 'value': ...} is not valid under any of the given
    schemas``); the concrete reason goes to ``detail``. The returned error has
    no path yet.
    """
    item = {"type": type_, "value": value}
    error = next(iter(validator("type").iter_errors([item])), None)
    if error is None:
        return None
    return FieldError("", error.message, code="type", detail=_type_detail(type_, error))


def _type_detail(type_: str, error: Any) -> str:
    """Pick the reasons from the one branch whose type pattern matched the field type."""
    branches: dict[Any, list[Any]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    for subs in branches.values():
        if not any(list(sub.relative_path) == ["type"] for sub in subs):
            return "; ".join(sub.message for sub in subs)
    return f"unknown field type '{type_}'"


def _in_choices(value: Any, choices: list[Any], type_: str) -> bool:
    """Resolwe compares the whole value; for lists each element may also be one of the choices."""
    if _contains(choices, value):
        return True
    return is_list_type(type_) and isinstance(value, list) and all(_contains(choices, item) for item in value)


def _contains(choices: list[Any], value: Any) -> bool:
    # ``True in [1]`` is true in Python; a boolean must not pass as a number.
    return any(choice == value and isinstance(choice, bool) == isinstance(value, bool) for choice in choices)


def _json_type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)
