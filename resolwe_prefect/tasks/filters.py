"""Task filters: ``status[exact,in]`` and ``id[exact,in]``.

A plain FilterSet, as in Resolwe: unknown parameters are ignored here,
unlike on the other endpoints.
"""

from __future__ import annotations

from django_filters import rest_framework as filters

from .models import BackgroundTask


class BackgroundTaskFilter(filters.FilterSet):
    class Meta:
        model = BackgroundTask
        fields = {"id": ["exact", "in"], "status": ["exact", "in"]}
