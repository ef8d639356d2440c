"""Data filters: every parameter resdk sends (tables, ``iterate``, ``get``) must be declared here."""

from __future__ import annotations

import django_filters as filters

from resolwe_prefect.api.filters import (
    DATETIME_LOOKUPS,
    NUMBER_LOOKUPS,
    RELATED_LOOKUPS,
    SLUG_LOOKUPS,
    TEXT_LOOKUPS,
    BaseObjectFilter,
    text_search,
)
from resolwe_prefect.permissions.filters import PermissionFilterMixin

from .models import Data


class DataFilter(PermissionFilterMixin, BaseObjectFilter):
    """``type`` is the process type matched by prefix; ``sample`` is sent by resdk as ``entity``."""

    text = filters.CharFilter(method=text_search("name", "slug", "process__name", "entity__name"))
    type = filters.CharFilter(field_name="process__type", lookup_expr="startswith")
    type__exact = filters.CharFilter(field_name="process__type", lookup_expr="exact")
    status = filters.CharFilter(field_name="status")
    status__in = filters.BaseInFilter(field_name="status")
    relation_id = filters.NumberFilter(field_name="entity__relation_partitions__relation")  # data of its entities

    class Meta(BaseObjectFilter.Meta):
        model = Data
        fields = {
            **BaseObjectFilter.Meta.fields,
            "checksum": ["exact"],
            "flow_run_id": ["exact"],  # from a flow run in the Prefect UI to its Data object
            "process": RELATED_LOOKUPS,
            "process__slug": SLUG_LOOKUPS,
            "process__name": TEXT_LOOKUPS,
            "collection": RELATED_LOOKUPS,
            "collection__name": TEXT_LOOKUPS,
            "collection__slug": SLUG_LOOKUPS,
            "entity": RELATED_LOOKUPS,
            "entity__name": TEXT_LOOKUPS,
            "entity__slug": SLUG_LOOKUPS,
            "started": DATETIME_LOOKUPS,
            "finished": DATETIME_LOOKUPS,
            "size": NUMBER_LOOKUPS,
        }
