"""Shared filter vocabulary (resolwe/flow/filters.py) and the strict query-string check.

Every list endpoint rejects query parameters it does not know with
``400 {"__all__": ["Unsupported parameter(s): ..."]}``; resdk's documentation
relies on that message and silently ignoring a typo would return wrong data.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import django_filters as filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from django.db.models import Q, QuerySet
from django_filters import rest_framework as drf_filters
from django_filters.fields import IsoDateTimeField
from rest_framework.filters import OrderingFilter

from resolwe_prefect.core.versions import parse_version

RELATED_LOOKUPS = ["exact", "in", "isnull"]
NUMBER_LOOKUPS = ["exact", "in", "gt", "gte", "lt", "lte", "isnull"]
TEXT_LOOKUPS = ["exact", "iexact", "contains", "icontains", "in", "startswith", "istartswith", "isnull"]
DATE_LOOKUPS = ["exact", "gt", "gte", "lt", "lte", "isnull"]
DATETIME_LOOKUPS = DATE_LOOKUPS + ["date", "time"]
SLUG_LOOKUPS = ["exact", "in"]
# The filters every Resolwe object accepts, versioned or not.
BASE_FIELDS = {
    "id": NUMBER_LOOKUPS,
    "slug": SLUG_LOOKUPS,
    "name": TEXT_LOOKUPS,
    "contributor": ["exact", "in"],
    "created": DATETIME_LOOKUPS,
    "modified": DATETIME_LOOKUPS,
}

#: Parameters every endpoint accepts besides its filters.
ALWAYS_ALLOWED = ("fields", "format", "limit", "offset", "ordering", "text")
#: Numbers a filter may compare with: the database's ``bigint`` range (ids, sizes, counts).
NUMBER_RANGE = (-(2**63), 2**63 - 1)


def value_problem(value: Any) -> str | None:
    """Why a cleaned filter value cannot reach the database (out of range, a NUL), or ``None``.

    ``?id=9999999999999999999999`` or ``?id__in=...`` overflowed the query
    (a 500), and so did text with a NUL character in some filters.
    """
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, (int, Decimal, float)) and not isinstance(item, bool):
            if not NUMBER_RANGE[0] <= item <= NUMBER_RANGE[1]:
                return f"Ensure this value is between {NUMBER_RANGE[0]} and {NUMBER_RANGE[1]}."
        elif isinstance(item, str) and "\x00" in item:
            return "Null characters are not allowed."
    return None


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, moved to UTC before it reaches the database.

    Python accepts offsets up to ±23:59 but PostgreSQL only ±15:59, so a query
    such as ``modified=2020-01-01T00:00+21:30`` must be normalised here rather
    than fail inside the database.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.tzinfo is not None:
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError as error:
                raise DjangoValidationError("Enter a valid date/time.", code="invalid") from error
        return value


class UTCIsoDateTimeFilter(drf_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class StrictFilterSet(drf_filters.FilterSet):
    """A FilterSet that refuses unknown query parameters, as Resolwe's ``CheckQueryParamsMixin``."""

    FILTER_DEFAULTS = {
        **drf_filters.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": UTCIsoDateTimeFilter},
    }

    #: Extra names a subclass accepts without declaring a filter for them.
    extra_allowed: tuple[str, ...] = ()

    def allowed_parameters(self) -> list[str]:
        return sorted(set(self.filters) | set(ALWAYS_ALLOWED) | set(self.extra_allowed))

    def is_valid(self) -> bool:
        allowed = self.allowed_parameters()
        unknown = [key for key in self.data.keys() if key not in allowed]
        if unknown:
            self.form.add_error(
                None,
                "Unsupported parameter(s): {}. Please use a combination of: {}.".format(
                    ", ".join(unknown), ", ".join(allowed)
                ),
            )
        if "text" in self.data and "ordering" in self.data:
            self.form.add_error(None, "Ordering can not be combined with full-text search (text).")
        if not super().is_valid():
            return False
        for name, value in list(self.form.cleaned_data.items()):
            problem = value_problem(value)
            if problem:
                self.form.add_error(name, problem)
        return not self.form.errors


class VersionFilter(filters.CharFilter):
    """Compare semantic versions; the column is an ordered integer, so ``gt``/``lt`` are semantic."""

    def filter(self, qs: QuerySet, value):
        if value in (None, ""):
            return qs
        values = value.split(",") if self.lookup_expr == "in" else [value]
        try:
            for item in values:
                parse_version(item)
        except ValueError as error:
            raise DjangoValidationError(str(error)) from error
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": values if self.lookup_expr == "in" else value})


def filter_tags(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """``tags=a,b``: objects whose JSON tag list contains all the given tags."""
    tags = [tag for tag in (value or "").split(",") if tag]
    if not tags:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.filter(**{f"{name}__contains": tags})
    # SQLite has no JSON containment; matching the quoted tag in the JSON text is close enough.
    condition = Q()
    for tag in tags:
        condition &= Q(**{f"{name}__icontains": json.dumps(tag)})
    return queryset.filter(condition)


def text_search(*fields: str):
    """Build a ``text=`` filter: every word must appear in one of ``fields`` or the contributor's names.

    A stand-in for Resolwe's PostgreSQL full-text search that also works on SQLite.
    """
    names = [*fields, "contributor__username", "contributor__first_name", "contributor__last_name"]

    def search(queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in (value or "").split():
            condition = Q()
            for field in names:
                condition |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(condition)
        return queryset

    return search


class BaseVersionedFilter(StrictFilterSet):
    """BaseResolweFilter: id, slug, name, version, contributor, created, modified.

    ``version`` takes NUMBER lookups (without ``isnull``: versions are never null).
    """

    version = VersionFilter(field_name="version", lookup_expr="exact")
    version__in = VersionFilter(field_name="version", lookup_expr="in")
    version__gt = VersionFilter(field_name="version", lookup_expr="gt")
    version__gte = VersionFilter(field_name="version", lookup_expr="gte")
    version__lt = VersionFilter(field_name="version", lookup_expr="lt")
    version__lte = VersionFilter(field_name="version", lookup_expr="lte")

    class Meta:
        fields = BASE_FIELDS


class BaseObjectFilter(StrictFilterSet):
    """The base vocabulary for unversioned objects (collections, entities, data)."""

    tags = filters.CharFilter(field_name="tags", method=filter_tags)

    class Meta:
        fields = BASE_FIELDS


class ResolweOrderingFilter(OrderingFilter):
    """Ordering that answers an unsupported field with 400 ``{"error": ...}`` instead of ignoring it."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
        fields = [term for term in fields if term]
        for term in fields:
            if term.lstrip("-") not in valid:
                raise DjangoValidationError(f"Ordering by field '{term.lstrip('-')}' is not supported.")
        return list(fields)
