"""``/api/process``: every version, readable; created directly only by superusers."""

from __future__ import annotations

from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from resolwe_prefect.permissions.views import PermissionsActionMixin, ResolweViewSetMixin

from .filters import ProcessFilter
from .models import Process
from .serializers import ProcessSerializer


class ProcessViewSet(
    PermissionsActionMixin,
    ResolweViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """No update or delete: processes change only through registration (PATCH → 405)."""

    queryset = Process.objects.select_related("contributor")
    serializer_class = ProcessSerializer
    filterset_class = ProcessFilter
    ordering_fields = ["id", "created", "modified", "name", "version", "slug", "type"]
    ordering = ["id"]

    def create(self, request: Request, *args, **kwargs) -> Response:
        """Resolwe hides the endpoint from non-superusers (404, not 403)."""
        if not request.user.is_superuser:
            raise NotFound()
        return super().create(request, *args, **kwargs)
