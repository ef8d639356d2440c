"""Annotation filters (resolwe/flow/filters.py), strict like every other endpoint.

Values and fields are also filtered by their entity (``entity``,
``entity__in``, ``entity__collection``, ``entity__name__icontains``...),
which is how resdk reads a sample's annotations.
"""

from __future__ import annotations

import django_filters as filters

from resolwe_prefect.api.filters import (
    DATE_LOOKUPS,
    NUMBER_LOOKUPS,
    RELATED_LOOKUPS,
    SLUG_LOOKUPS,
    TEXT_LOOKUPS,
    StrictFilterSet,
)

from .models import AnnotationField, AnnotationGroup, AnnotationPreset, AnnotationValue

#: Entity lookups exposed under an ``entity`` prefix (a subset of the Entity filters).
ENTITY_LOOKUPS = {
    "": NUMBER_LOOKUPS,
    "__name": TEXT_LOOKUPS,
    "__slug": SLUG_LOOKUPS,
    "__collection": RELATED_LOOKUPS,
    "__collection__name": TEXT_LOOKUPS,
    "__collection__slug": SLUG_LOOKUPS,
    "__type": ["exact"],
}


class AnnotationGroupFilter(StrictFilterSet):
    class Meta:
        model = AnnotationGroup
        fields = {"id": NUMBER_LOOKUPS, "name": TEXT_LOOKUPS, "label": TEXT_LOOKUPS, "sort_order": NUMBER_LOOKUPS}


class AnnotationFieldFilter(StrictFilterSet):
    """``collection`` means "fields the collection shows"; ``entity`` means "fields with a value on it"."""

    collection = filters.NumberFilter(field_name="collections", distinct=True)
    collection__in = filters.BaseInFilter(field_name="collections", distinct=True)
    collection__name = filters.CharFilter(field_name="collections__name", distinct=True)
    collection__name__icontains = filters.CharFilter(
        field_name="collections__name", lookup_expr="icontains", distinct=True
    )
    collection__slug = filters.CharFilter(field_name="collections__slug", distinct=True)

    class Meta:
        model = AnnotationField
        fields = {
            "id": NUMBER_LOOKUPS,
            "name": TEXT_LOOKUPS,
            "label": TEXT_LOOKUPS,
            "type": TEXT_LOOKUPS,
            "description": TEXT_LOOKUPS,
            "group__name": TEXT_LOOKUPS,
            "required": ["exact"],
        }

    def filter_queryset(self, queryset):
        """Entity lookups go through the values, which repeat a field once per value: keep it distinct."""
        queryset = super().filter_queryset(queryset)
        if any(key.startswith("entity") for key in self.data.keys()):
            queryset = queryset.distinct()
        return queryset


def _add_entity_filters(filterset: type[StrictFilterSet], path: str) -> None:
    """Declare ``entity...`` filters that follow ``path`` (``values__entity`` for fields)."""
    for suffix, lookups in ENTITY_LOOKUPS.items():
        for lookup in lookups:
            name = f"entity{suffix}" + ("" if lookup == "exact" else f"__{lookup}")
            field_name = f"{path}{suffix}"
            if lookup == "in":
                declared = filters.BaseInFilter(field_name=field_name, lookup_expr="in")
            elif lookup == "isnull":
                declared = filters.BooleanFilter(field_name=field_name, lookup_expr="isnull")
            elif suffix in ("", "__collection"):
                declared = filters.NumberFilter(field_name=field_name, lookup_expr=lookup)
            else:
                declared = filters.CharFilter(field_name=field_name, lookup_expr=lookup)
            filterset.base_filters[name] = declared


_add_entity_filters(AnnotationFieldFilter, "values__entity")


class AnnotationValueFilter(StrictFilterSet):
    label = filters.CharFilter(field_name="_value__label", lookup_expr="icontains")

    class Meta:
        model = AnnotationValue
        fields = {
            "id": NUMBER_LOOKUPS,
            "field": ["exact", "in"],
            "field__id": NUMBER_LOOKUPS,
            "field__name": TEXT_LOOKUPS,
            "field__label": TEXT_LOOKUPS,
            "field__group__name": TEXT_LOOKUPS,
            "created": DATE_LOOKUPS,
            "contributor": ["exact", "in"],
        }


_add_entity_filters(AnnotationValueFilter, "entity")


class AnnotationPresetFilter(StrictFilterSet):
    class Meta:
        model = AnnotationPreset
        fields = {"id": NUMBER_LOOKUPS, "name": TEXT_LOOKUPS}
