"""Relation filters: the base vocabulary, the collection's, and the positional partition triples."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet

from resolwe_prefect.api.filters import (
    DATETIME_LOOKUPS,
    NUMBER_LOOKUPS,
    StrictFilterSet,
    filter_tags,
)

from .models import Relation
from .services import filter_by_partitions


class RelationFilter(StrictFilterSet):
    """``entity``, ``label`` and ``position`` are repeatable and pair up in order (see ``services``)."""

    extra_allowed = ("entity", "label", "position")

    category = filters.CharFilter(field_name="category", lookup_expr="iexact")
    type = filters.CharFilter(field_name="type__name")
    tags = filters.CharFilter(field_name="collection__tags", method=filter_tags)
    descriptor_schema = filters.NumberFilter(field_name="descriptor_schema")

    class Meta:
        model = Relation
        fields = {
            "id": NUMBER_LOOKUPS,
            "contributor": ["exact", "in"],
            "created": DATETIME_LOOKUPS,
            "modified": DATETIME_LOOKUPS,
            "collection": ["exact", "in"],
        }

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Declared filters first, then one partition match per ``entity`` value."""
        queryset = super().filter_queryset(queryset)
        return filter_by_partitions(
            queryset, self.data.getlist("entity"), self.data.getlist("label"), self.data.getlist("position")
        )
