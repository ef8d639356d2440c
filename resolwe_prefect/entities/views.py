"""``/api/collection``, ``/api/entity`` and its alias ``/api/sample``.

The counts and the derived ``status`` are computed in SQL (correlated
subqueries), so lists cost a constant number of queries and ``status`` can
be filtered and ordered on. The data app depends on this one, so the Data
model is reached through the containers' reverse relation ``data``.
"""

from __future__ import annotations

from django.db.models import Case, CharField, Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from rest_framework import viewsets

from resolwe_prefect.api.views import UnchangedPatchMixin
from resolwe_prefect.permissions.views import PermissionsActionMixin, ResolweViewSetMixin
from resolwe_prefect.tasks.actions import BackgroundActionsMixin

from .actions import MoveToCollectionMixin
from .deletion import delete_collections, delete_entities
from .duplication import duplicate_collections, duplicate_entities
from .filters import CollectionFilter, EntityFilter
from .models import Collection, Entity
from .moving import move_entities
from .serializers import CollectionSerializer, EntitySerializer

# The worst status wins: ER > PR > UP > PP > WT > RE > OK (> DR, which Resolwe never emits).
STATUS_RANK = {"DR": 0, "OK": 1, "RE": 2, "WT": 3, "PP": 4, "UP": 5, "PR": 6, "ER": 7}


def _data_model():
    """The model of the Data in collections and entities (``data.models.Data``)."""
    return Collection._meta.get_field("data").related_model


def _count(model, field: str) -> Coalesce:
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1]), 0, output_field=IntegerField())


def _status(field: str) -> Subquery:
    """The worst status among the container's Data, as one correlated subquery.

    Ranking and picking in the same subquery keeps the SQL small: expressing
    the status as a CASE over a separately annotated rank repeated the rank
    subquery once per status, and building that query dominated every
    request that serializes a collection.
    """
    rank = Case(*[When(status=s, then=Value(r)) for s, r in STATUS_RANK.items()], output_field=IntegerField())
    data = _data_model().objects.filter(**{field: OuterRef("pk")})
    worst = data.annotate(rank=rank).order_by("-rank").values("status")[:1]
    return Subquery(worst, output_field=CharField())


def annotate_collections(queryset: QuerySet) -> QuerySet:
    """Add ``data_count``, ``entity_count`` and ``status`` to a Collection queryset."""
    return queryset.select_related("contributor", "descriptor_schema").annotate(
        data_count=_count(_data_model(), "collection"),
        entity_count=_count(Entity, "collection"),
        status=_status("collection"),
    )


def annotate_entities(queryset: QuerySet) -> QuerySet:
    """Add ``data_count`` and ``status`` to an Entity queryset and load its nested collection."""
    return (
        queryset.select_related("contributor", "descriptor_schema")
        .prefetch_related(Prefetch("collection", queryset=annotate_collections(Collection.objects.all())))
        .annotate(data_count=_count(_data_model(), "entity"), status=_status("entity"))
    )


class CollectionViewSet(
    BackgroundActionsMixin, PermissionsActionMixin, ResolweViewSetMixin, UnchangedPatchMixin, viewsets.ModelViewSet
):
    queryset = Collection.objects.all()
    serializer_class = CollectionSerializer
    filterset_class = CollectionFilter
    ordering_fields = [
        "id", "created", "modified", "name", "slug", "contributor", "contributor__first_name",
        "contributor__last_name", "status",
    ]  # fmt: skip
    ordering = ["id"]
    # delete, duplicate and bulk_delete run as background tasks
    task_objects = "collections"
    delete_operation = staticmethod(delete_collections)
    duplicate_operation = staticmethod(duplicate_collections)

    def base_queryset(self) -> QuerySet:
        return annotate_collections(Collection.objects.all())


class EntityViewSet(
    BackgroundActionsMixin,
    MoveToCollectionMixin,
    PermissionsActionMixin,
    ResolweViewSetMixin,
    UnchangedPatchMixin,
    viewsets.ModelViewSet,
):
    """Registered as both ``entity`` and ``sample`` (resolwe-bio's alias, which resdk uses)."""

    queryset = Entity.objects.all()
    serializer_class = EntitySerializer
    filterset_class = EntityFilter
    ordering_fields = [
        "id", "created", "modified", "name", "slug", "contributor", "contributor__first_name",
        "contributor__last_name", "status", "collection__name",
    ]  # fmt: skip
    ordering = ["id"]
    # delete, duplicate, bulk_delete and move_to_collection run as background tasks
    task_objects = "entities"
    delete_operation = staticmethod(delete_entities)
    duplicate_operation = staticmethod(duplicate_entities)
    duplicate_options = ("inherit_collection",)
    move_operation = staticmethod(move_entities)

    def base_queryset(self) -> QuerySet:
        return annotate_entities(Entity.objects.all())
