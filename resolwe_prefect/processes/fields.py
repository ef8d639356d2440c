"""Values of process inputs/outputs and descriptors, checked against their field schema.

This is Resolwe's ``validate_schema`` and ``fill_with_defaults``, with one
difference: Resolwe raises on the first problem, here every problem is
returned as a :class:`FieldError` so that an API can show them all. Messages
keep Resolwe's wording, because clients (and the conformance cases) match on
them.

The module is pure: references to other objects (Data, Storage) and the
sources a server would read (a ``file_temp``, a URL to download) are checked
only through the callbacks the caller passes, so it needs no database.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

from .schemas import validator
from .types import element_type, is_list_type, type_matches

KINDS = ("input", "output", "descriptor")


class FieldError(Exception):
    """One invalid value.

    ``path`` locates the value (``reads``, ``options.threads``, ``files[2]``;
    empty for the whole object), ``message`` is Resolwe's wording and ``code``
    classifies the problem so callers can react to some of them: a descriptor
    with only ``required`` errors is *dirty*, not invalid. ``detail`` carries
    the specific reason behind a generic type error.
    """

    def __init__(self, path: str, message: str, code: str = "invalid", detail: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def __repr__(self) -> str:
        return f"FieldError({self.path!r}, {self.message!r}, code={self.code!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldError):
            return NotImplemented
        return (self.path, self.message, self.code) == (other.path, other.message, other.code)

    __hash__ = None  # type: ignore[assignment]


def join_path(prefix: str, name: str) -> str:
    """``options`` + ``threads`` -> ``options.threads``."""
    return f"{prefix}.{name}" if prefix else name


def is_group(field: dict) -> bool:
    """A field with a ``group`` key holds sub-fields instead of a value."""
    return isinstance(field, dict) and "group" in field


def iter_leaf_fields(schema: list[dict], prefix: str = "") -> Iterator[tuple[dict, str]]:
    """Yield ``(field, dotted path)`` for every non-group field, depth first (Resolwe's ``iterate_schema``)."""
    for field in schema or []:
        if not isinstance(field, dict) or "name" not in field:
            continue
        path = join_path(prefix, str(field["name"]))
        if is_group(field):
            yield from iter_leaf_fields(field["group"] if isinstance(field["group"], list) else [], path)
        else:
            yield field, path


# --- defaults -------------------------------------------------------------------------------


def fill_defaults(schema: list[dict], values: dict) -> dict:
    """Return a copy of ``values`` with defaults of missing fields filled in.

    Like Resolwe's ``fill_with_defaults``, a group that is missing is added as a
    dict (so its defaulted children have somewhere to go), and a value that is
    present, even ``None``, is never replaced. Neither argument is modified.
    """
    result = copy.deepcopy(values) if isinstance(values, dict) else {}
    _fill_level(schema or [], result)
    return result


def _fill_level(schema: list[dict], values: dict) -> None:
    for field in schema:
        if not isinstance(field, dict) or "name" not in field:
            continue
        name = field["name"]
        if is_group(field):
            if name not in values:
                values[name] = {}
            if isinstance(values[name], dict) and isinstance(field["group"], list):
                _fill_level(field["group"], values[name])
        elif "default" in field and name not in values:
            values[name] = copy.deepcopy(field["default"])


# --- validation -----------------------------------------------------------------------------


DataResolver = Callable[[int], "str | None"]
StorageResolver = Callable[[int], bool]
#: ``(field type, value)`` of a ``basic:file:`` or ``basic:url:`` value → why it is refused, or ``None``.
SourceChecker = Callable[[str, dict], "str | None"]


def validate_values(
    schema: list[dict],
    values: dict,
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
    checker.level(schema or [], values, "")
    return checker.invalid + checker.unknown + checker.missing


def format_errors(errors: list[FieldError]) -> str:
    """Join errors into one Resolwe-style message.

    Missing required fields are reported in one sentence, as Resolwe's
    ``DirtyError`` does: ``Required fields "a", "b" not given.``
    """
    parts = [error.message for error in errors if error.code != "required"]
    missing = [error.path.rsplit(".", 1)[-1] for error in errors if error.code == "required"]
    if missing:
        parts.append(required_message(missing))
    return " ".join(parts)


def required_message(names: list[str]) -> str:
    """Resolwe's wording for missing required fields (names without their group path)."""
    return "Required fields {} not given.".format(", ".join(f'"{name}"' for name in names))


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

    def level(self, schema: list[dict], values: dict, prefix: str) -> None:
        known = set()
        for field in schema:
            if not isinstance(field, dict) or "name" not in field:
                continue
            name = field["name"]
            known.add(name)
            path = join_path(prefix, name)
            if is_group(field):
                self.group(field, values.get(name), path)
            elif name not in values:
                if self.check_required and field.get("required", True):
                    self.missing.append(FieldError(path, required_message([name]), code="required"))
            else:
                self.value(field, values[name], path)
        for key in values:
            if key not in known:
                message = f"Field definition ({key}) missing in schema"
                self.unknown.append(FieldError(join_path(prefix, str(key)), message, code="unknown"))

    def group(self, field: dict, value: Any, path: str) -> None:
        # A missing (or null) group is checked as an empty one: its required
        # children are then reported as missing, as Resolwe does.
        if value is None:
            value = {}
        if not isinstance(value, dict):
            message = f"Value of group '{field['name']}' must be an object, not {_json_type(value)}."
            self.invalid.append(FieldError(path, message, code="type"))
            return
        self.level(field["group"] if isinstance(field["group"], list) else [], value, path)

    def value(self, field: dict, value: Any, path: str) -> None:
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
