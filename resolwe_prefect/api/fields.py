"""Serializer fields that refuse values of the wrong JSON type instead of coercing them.

DRF's ``CharField`` turns ``12345`` into ``"12345"`` and a model
``JSONField`` takes any JSON at all, so ``"tags": "abc"`` or
``"settings": "x"`` would be stored as given and break resdk, which
expects a list and an object. Every writable field of Resolwe's objects
uses these instead, so a wrong type is a 400 naming the field.

``parse_pk`` is the one reading of an object id from a request body: an
integer (or a string of ASCII digits) that fits the database's ``bigint``;
anything else does not name an object (``"²".isdigit()`` is true in Python,
and ``2**70`` would overflow the query).
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

#: The largest primary key PostgreSQL's ``bigint`` (and SQLite's integer) holds.
MAX_PK = 2**63 - 1
_DIGITS = re.compile(r"^[0-9]{1,19}$")


def parse_pk(value: Any) -> int | None:
    """The object id ``value`` stands for, or ``None`` when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _DIGITS.match(value):
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_PK:
        return value
    return None


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's ``CharField`` also takes numbers)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TagsField(serializers.ListField):
    """A list of non-empty strings (Resolwe's ``tags``)."""

    child = StrictCharField(max_length=255)


class JSONObjectField(serializers.JSONField):
    """A JSON object (``descriptor``, ``settings``): anything else is refused."""

    default_error_messages = {"not_an_object": "Expected a JSON object, got {input_type}."}

    def to_internal_value(self, data: Any) -> dict:
        if not isinstance(data, dict):
            self.fail("not_an_object", input_type=type(data).__name__)
        return super().to_internal_value(data)


def check_value(field: serializers.Field, name: str, value: Any) -> Any:
    """Run one field's validation outside a serializer; errors come back keyed by ``name``."""
    try:
        return field.run_validation(value)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({name: error.detail}) from error
