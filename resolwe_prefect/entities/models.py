"""Collection and Entity, with Resolwe's fields."""

from __future__ import annotations

from django.db import models

from resolwe_prefect.core.models import BaseModel
from resolwe_prefect.descriptors.models import DescriptorMixin
from resolwe_prefect.permissions.models import PermissionObject


class BaseCollection(DescriptorMixin, PermissionObject, BaseModel):
    """What a collection and an entity both are: a described, tagged group of Data (Resolwe's BaseCollection)."""

    description = models.TextField(default="", blank=True)
    settings = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    duplicated = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        abstract = True


class Collection(BaseCollection):
    """A set of Data objects and Entities that share permissions."""

    class Meta(BaseCollection.Meta):
        constraints = [models.UniqueConstraint(fields=["slug"], name="collection_slug")]


class Entity(BaseCollection):
    """A sample: the Data objects that describe one biological thing."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, null=True, blank=True, related_name="entities")
    type = models.CharField(max_length=100, null=True, blank=True, db_index=True)

    class Meta(BaseCollection.Meta):
        constraints = [models.UniqueConstraint(fields=["slug"], name="entity_slug")]
        verbose_name_plural = "entities"
