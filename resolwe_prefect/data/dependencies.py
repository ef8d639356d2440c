"""Walk a Data object's inputs to find the Data objects it depends on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resolwe_prefect.schema.walk import Schema, iterate_fields


def input_data_ids(schema: Schema | None, values: Mapping[str, Any] | None) -> list[int]:
    """Return the ids of every ``data:`` / ``list:data:`` input, in schema order, without repeats."""
    ids: list[int] = []
    for visit in iterate_fields(values, schema):
        value = visit.value
        if visit.type.startswith("data:") and isinstance(value, int):
            candidates = [value]
        elif visit.type.startswith("list:data:") and isinstance(value, list):
            candidates = [v for v in value if isinstance(v, int)]
        else:
            continue
        ids.extend(candidate for candidate in candidates if candidate not in ids)
    return ids
