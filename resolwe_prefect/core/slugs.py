"""Resolwe's slug rules: generated from the name, unique per table, ``-2``, ``-3`` on clashes."""

from __future__ import annotations

import re

from django.db import models
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


def unique_slug(model: type[models.Model], base: str, *, exclude_pk=None, **scope) -> str:
    """Return the first free slug derived from ``base`` in ``model``'s table.

    ``scope`` narrows uniqueness (for example to one version of a Process).
    """
    slug = slugify(base)[:SLUG_MAX_LENGTH] or model._meta.model_name
    queryset = model.objects.filter(**scope)
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    taken = set(queryset.filter(slug__startswith=slug).values_list("slug", flat=True))
    if slug not in taken:
        return slug
    index = 2
    while True:
        suffix = f"-{index}"
        candidate = slug[: SLUG_MAX_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        index += 1
