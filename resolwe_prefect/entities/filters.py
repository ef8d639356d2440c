"""Collection and Entity filters (Resolwe's vocabulary, with the user and permission filters)."""

from __future__ import annotations

import django_filters as filters

from resolwe_prefect.api.filters import RELATED_LOOKUPS, SLUG_LOOKUPS, TEXT_LOOKUPS, BaseObjectFilter, text_search
from resolwe_prefect.permissions.filters import PermissionFilterMixin

from .models import Collection, Entity


class CollectionFilter(PermissionFilterMixin, BaseObjectFilter):
    text = filters.CharFilter(method=text_search("name", "slug", "description"))
    status = filters.CharFilter(field_name="status")
    status__in = filters.BaseInFilter(field_name="status")
    descriptor_schema = filters.NumberFilter(field_name="descriptor_schema")
    entity_count = filters.NumberFilter(field_name="entity_count")
    entity_count__gt = filters.NumberFilter(field_name="entity_count", lookup_expr="gt")
    entity_count__gte = filters.NumberFilter(field_name="entity_count", lookup_expr="gte")
    entity_count__lt = filters.NumberFilter(field_name="entity_count", lookup_expr="lt")
    entity_count__lte = filters.NumberFilter(field_name="entity_count", lookup_expr="lte")

    class Meta(BaseObjectFilter.Meta):
        model = Collection
        fields = {
            **BaseObjectFilter.Meta.fields,
            "description": TEXT_LOOKUPS,
        }


class EntityFilter(PermissionFilterMixin, BaseObjectFilter):
    text = filters.CharFilter(method=text_search("name", "slug", "description"))
    status = filters.CharFilter(field_name="status")
    status__in = filters.BaseInFilter(field_name="status")
    descriptor_schema = filters.NumberFilter(field_name="descriptor_schema")
    relation_id = filters.NumberFilter(field_name="relation_partitions__relation")  # entities in that relation

    class Meta(BaseObjectFilter.Meta):
        model = Entity
        fields = {
            **BaseObjectFilter.Meta.fields,
            "description": TEXT_LOOKUPS,
            "collection": RELATED_LOOKUPS,
            "collection__name": TEXT_LOOKUPS,
            "collection__slug": SLUG_LOOKUPS,
            "type": ["exact"],
        }
