"""``/api/descriptorschema``: GET only, all versions."""

from __future__ import annotations

from rest_framework import viewsets

from resolwe_prefect.permissions.views import PermissionsActionMixin, ResolweViewSetMixin

from .filters import DescriptorSchemaFilter
from .models import DescriptorSchema
from .serializers import DescriptorSchemaSerializer


class DescriptorSchemaViewSet(PermissionsActionMixin, ResolweViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = DescriptorSchema.objects.select_related("contributor")
    serializer_class = DescriptorSchemaSerializer
    filterset_class = DescriptorSchemaFilter
    ordering_fields = ["id", "created", "modified", "name", "version", "slug"]
    ordering = ["id"]
