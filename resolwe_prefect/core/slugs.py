"""Resolwe's slug rules: generated from the name, unique per table, ``-2``, ``-3`` on clashes."""

from __future__ import annotations

import re
import zlib

from django.db import connection, models
from django.db.models import Max
from django.db.models.functions import Cast, Substr
from django.utils.text import slugify

SLUG_MAX_LENGTH = 100
NAME_MAX_LENGTH = 100
_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")


def is_valid_slug(value: str) -> bool:
    """Tell whether a user-supplied slug can be stored as it is."""
    return bool(value) and len(value) <= SLUG_MAX_LENGTH and bool(_SLUG_RE.match(value))


def truncate_name(name: str) -> str:
    """Shorten a name to Resolwe's 100 characters, ending with ``...``."""
    if len(name) > NAME_MAX_LENGTH:
        return name[: NAME_MAX_LENGTH - 3] + "..."
    return name


def lock_slug(model: type[models.Model], base: str) -> None:
    """Serialise slug choice for one name in one table until the current transaction ends (PostgreSQL).

    Without it, writers creating same-named objects at once all read the
    same highest suffix (each other's rows are not committed yet) and all
    but one are refused by the unique constraint. SQLite already runs one
    writer at a time.
    """
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"{model._meta.db_table}:{slugify(base)[:SLUG_MAX_LENGTH]}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


# Room kept for a ``-N`` suffix when a slug is taken (up to ``-999999``).
_SUFFIX_ROOM = 7


def unique_slug(model: type[models.Model], base: str, *, exclude_pk=None, **scope) -> str:
    """Return a free slug derived from ``base`` in ``model``'s table: the slug itself, else ``<slug>-<N>``.

    ``N`` is one more than the highest suffix in use, as in Resolwe, found by
    one indexed query (an index range scan on the prefix), not by reading
    every sibling: creating the 10,000th object of the same name costs what
    the second did. ``scope`` narrows uniqueness (for example to one version
    of a Process). Two writers may still pick the same slug at once; the
    unique constraint refuses the second: ``BaseModel.save`` takes ``lock_slug``
    first, and retries.
    """
    slug = slugify(base)[:SLUG_MAX_LENGTH] or model._meta.model_name
    queryset = model.objects.filter(**scope)
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    if not queryset.filter(slug=slug).exists():
        return slug
    stem = slug[: SLUG_MAX_LENGTH - _SUFFIX_ROOM]
    highest = (
        queryset.filter(slug__startswith=f"{stem}-", slug__regex=rf"^{re.escape(stem)}-[0-9]{{1,6}}$")
        .annotate(suffix=Cast(Substr("slug", len(stem) + 2), models.IntegerField()))
        .aggregate(highest=Max("suffix"))["highest"]
    )
    return f"{stem}-{max(highest or 1, 1) + 1}"
