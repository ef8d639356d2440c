"""Walk a Data object's inputs to find the Data objects it depends on."""

from __future__ import annotations

from collections.abc import Iterator


def iterate_fields(schema: list[dict], values: dict, prefix: str = "") -> Iterator[tuple[str, dict, object]]:
    """Yield ``(path, field, value)`` for every leaf field that has a value, groups flattened.

    Paths use dots for groups (``options.threads``), as in Resolwe's error messages.
    """
    for field in schema or []:
        name = field.get("name")
        if name not in (values or {}):
            continue
        value = values[name]
        path = f"{prefix}{name}"
        if "group" in field:
            if isinstance(value, dict):
                yield from iterate_fields(field["group"], value, prefix=f"{path}.")
            continue
        yield path, field, value


def input_data_ids(schema: list[dict], values: dict) -> list[int]:
    """Return the ids of every ``data:`` / ``list:data:`` input, in schema order, without repeats."""
    ids: list[int] = []
    for _path, field, value in iterate_fields(schema, values):
        type_ = field.get("type", "")
        if type_.startswith("data:") and isinstance(value, int):
            candidates = [value]
        elif type_.startswith("list:data:") and isinstance(value, list):
            candidates = [v for v in value if isinstance(v, int)]
        else:
            continue
        ids.extend(candidate for candidate in candidates if candidate not in ids)
    return ids
