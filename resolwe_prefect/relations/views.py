"""``/api/relation``: a full ModelViewSet whose permissions are its collection's.

A relation has no permission group of its own: VIEW on the collection shows
it, EDIT on the collection changes or deletes it (``permission_field``).
Lists cost a constant number of queries: the nested collection (with its
counts) and the partitions are each loaded in one query for the whole page.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from resolwe_prefect.api.views import UnchangedPatchMixin
from resolwe_prefect.entities.models import Collection
from resolwe_prefect.entities.views import annotate_collections
from resolwe_prefect.permissions.views import ResolweViewSetMixin

from .filters import RelationFilter
from .models import Relation, RelationPartition
from .serializers import RelationSerializer

_PAIRED = "Repeatable; the n-th value pairs up with the n-th `entity`."


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("entity", OpenApiTypes.INT, many=True, description="Repeatable entity id."),
            OpenApiParameter("label", OpenApiTypes.STR, many=True, description=_PAIRED),
            OpenApiParameter("position", OpenApiTypes.INT, many=True, description=_PAIRED),
        ]
    )
)
class RelationViewSet(ResolweViewSetMixin, UnchangedPatchMixin, viewsets.ModelViewSet):
    queryset = Relation.objects.all()
    permission_field = "collection__permission_group"
    serializer_class = RelationSerializer
    filterset_class = RelationFilter
    ordering_fields = ["id", "created", "modified"]
    ordering = ["id"]

    def base_queryset(self) -> QuerySet:
        """Everything the serializer reads, loaded per page rather than per relation."""
        return Relation.objects.select_related("contributor", "type", "descriptor_schema").prefetch_related(
            Prefetch("collection", queryset=annotate_collections(Collection.objects.all())),
            Prefetch("partitions", queryset=RelationPartition.objects.order_by("id")),
        )
