"""Process filters: Resolwe's base vocabulary plus prefix matches on ``type`` and ``category``."""

from __future__ import annotations

import django_filters as filters

from resolwe_prefect.api.filters import BaseVersionedFilter

from .models import Process


class ProcessFilter(BaseVersionedFilter):
    """``type`` and ``category`` match by prefix (``type=data:file`` finds ``data:file:gz:``)."""

    type = filters.CharFilter(field_name="type", lookup_expr="startswith")
    category = filters.CharFilter(field_name="category", lookup_expr="startswith")
    is_active = filters.BooleanFilter(field_name="is_active")
    scheduling_class = filters.CharFilter(field_name="scheduling_class")
    persistence = filters.CharFilter(field_name="persistence")

    class Meta(BaseVersionedFilter.Meta):
        model = Process
