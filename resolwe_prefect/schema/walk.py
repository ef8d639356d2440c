"""The one walk over a field schema and the values it describes.

A process's inputs and outputs and a descriptor are lists of fields; a field
with a ``group`` key holds a list of sub-fields instead of a value, and its
value is a dict of theirs. Every consumer (validation, defaults, hydration,
dependencies, secrets, uploads, storages, output checks) needs the leaves of
that tree together with the dict that holds each value, so that it can read
or replace the value at any depth. This module is Resolwe's
``iterate_fields``/``iterate_schema`` written once, tolerant of the malformed
parts that validation exists to report:

* schema entries that are not mappings or have no ``name`` are skipped;
* a ``group`` that is not a list has no fields;
* a group value that is not a mapping is not descended into;
* values that are not a mapping count as no values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

#: One entry of a field schema: ``name``, ``type`` or ``group``, ``label``, ``default``, ...
FieldSchema = Mapping[str, Any]
#: A field schema: the fields of one level (the whole input, or one group).
Schema = Sequence[FieldSchema]
Values = MutableMapping[str, Any]

VisitKind = Literal["leaf", "group", "unknown"]


def join_path(prefix: str, name: str) -> str:
    """``options`` + ``threads`` -> ``options.threads``."""
    return f"{prefix}.{name}" if prefix else name


def is_group(field: Any) -> bool:
    """A field with a ``group`` key holds sub-fields instead of a value."""
    return isinstance(field, Mapping) and "group" in field


def group_fields(field: FieldSchema) -> Schema:
    """The sub-fields of a group (none when ``group`` is not a list)."""
    group = field.get("group")
    return group if isinstance(group, list) else []


@dataclass(frozen=True, slots=True)
class FieldVisit:
    """One place in a values dict: the field's schema, the dict holding its value, the key and the dotted path.

    ``kind`` is ``leaf`` for a value field, ``group`` for a group (only with
    ``groups=True``) and ``unknown`` for a key the schema does not define
    (only with ``unknown=True``; ``field`` is then empty). Writing
    ``visit.values[visit.name]`` changes the value in place, at any depth.
    """

    field: FieldSchema
    values: Values
    name: str
    path: str
    kind: VisitKind = "leaf"

    @property
    def present(self) -> bool:
        """Whether the values hold this field (a ``None`` value is present)."""
        return self.name in self.values

    @property
    def value(self) -> Any:
        """The value, ``None`` when absent."""
        return self.values.get(self.name)

    @property
    def type(self) -> str:
        """The field's type as written in the schema (``""`` for groups and unknown keys)."""
        return str(self.field.get("type", ""))


def iterate_fields(
    values: Mapping[str, Any] | None,
    schema: Schema | None,
    path: str = "",
    *,
    missing: bool = False,
    groups: bool = False,
    unknown: bool = False,
    value_order: bool = False,
) -> Iterator[FieldVisit]:
    """Yield a :class:`FieldVisit` for every leaf field that has a value, depth first, in schema order.

    * ``missing`` - also the leaves without a value, descending into absent
      or ``None`` groups as into empty ones (their dict is then a detached
      ``{}``): what required checks and defaults need.
    * ``groups`` - also every group that has a value (every group, with
      ``missing``), whatever the value, before its fields. The group's value
      is read after the caller has seen the visit, so a caller may put a dict
      in its place (a missing group, a copy) and the walk goes on inside it.
    * ``unknown`` - also the keys a level has that its schema does not
      define, after that level's fields.
    * ``value_order`` - walk each level in the order of its keys instead,
      unknown keys where they occur (Resolwe's ``iterate_fields``: outputs
      are checked in the order the program reported them); no leaf is
      missing then.
    """
    level: Values = cast(Values, values) if isinstance(values, Mapping) else {}
    named = [field for field in schema or [] if isinstance(field, Mapping) and "name" in field]
    entries: list[tuple[FieldSchema | None, str]]
    if value_order:
        by_name = {field["name"]: field for field in named}
        entries = [(by_name.get(key), key) for key in list(level)]
    else:
        known = {field["name"] for field in named}
        entries = [(field, field["name"]) for field in named] + [(None, key) for key in level if key not in known]
    for field, name in entries:
        field_path = join_path(path, str(name))
        if field is None:
            if unknown:
                yield FieldVisit({}, level, name, field_path, "unknown")
        elif is_group(field):
            if name not in level and not missing:
                continue
            if groups:
                yield FieldVisit(field, level, name, field_path, "group")
            value = level.get(name)
            if value is None and missing:
                value = {}
            if isinstance(value, Mapping):
                yield from iterate_fields(
                    value,
                    group_fields(field),
                    field_path,
                    missing=missing,
                    groups=groups,
                    unknown=unknown,
                    value_order=value_order,
                )
        elif missing or name in level:
            yield FieldVisit(field, level, name, field_path)


def iterate_schema(schema: Schema | None, path: str = "") -> Iterator[tuple[FieldSchema, str]]:
    """Yield ``(field, dotted path)`` for every leaf of a schema, depth first (Resolwe's ``iterate_schema``)."""
    for visit in iterate_fields({}, schema, path, missing=True):
        yield visit.field, visit.path


def map_fields(values: Mapping[str, Any], schema: Schema | None, function: Callable[[FieldVisit], Any]) -> dict:
    """Return a copy of ``values`` with each present leaf's value replaced by ``function(visit)``.

    The dicts of ``values`` and of its groups are copied, so neither is
    modified; the leaf values themselves are shared unless ``function``
    returns new ones.
    """
    result = dict(values)
    for visit in iterate_fields(result, schema, groups=True):
        if visit.kind == "group":
            if isinstance(visit.value, Mapping):
                visit.values[visit.name] = dict(visit.value)
        else:
            visit.values[visit.name] = function(visit)
    return result
