"""``/api/task``: a user's own background tasks, polled by resdk until OK or ER."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from resolwe_prefect.permissions.views import ResolweViewSetMixin

from .filters import BackgroundTaskFilter
from .models import BackgroundTask
from .serializers import BackgroundTaskSerializer


class BackgroundTaskViewSet(ResolweViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List and detail; a task is visible only to the user who started it (anonymous callers see none)."""

    queryset = BackgroundTask.objects.all()
    serializer_class = BackgroundTaskSerializer
    filterset_class = BackgroundTaskFilter
    permission_field = None
    ordering_fields = ["id", "started", "finished", "status"]
    ordering = ["id"]

    def filter_for_user(self, queryset: QuerySet) -> QuerySet:
        user = self.request.user
        if not (user and user.is_authenticated):
            return queryset.none()
        return queryset.filter(user=user)
