"""Model fields with Resolwe's semantics."""

from __future__ import annotations

from django.db import models

from .versions import int_to_version, version_to_int


class VersionField(models.BigIntegerField):
    """A semantic version stored as an ordered integer, exposed as ``"x.y.z"``.

    Storing the integer makes ``ORDER BY version`` semantic, which resdk relies
    on when it asks for ``?slug=...&ordering=-version&limit=1``.
    """

    def from_db_value(self, value, expression, connection):
        return None if value is None else int_to_version(value)

    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return int_to_version(int(value))

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, int):
            return value
        return version_to_int(value)
