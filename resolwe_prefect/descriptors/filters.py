"""DescriptorSchema filters: Resolwe's base vocabulary."""

from __future__ import annotations

from resolwe_prefect.api.filters import BaseVersionedFilter

from .models import DescriptorSchema


class DescriptorSchemaFilter(BaseVersionedFilter):
    class Meta(BaseVersionedFilter.Meta):
        model = DescriptorSchema
