"""Collection and Entity, with Resolwe's fields."""

from __future__ import annotations

from django.db import models

from resolwe_prefect.core.models import BaseModel


class DescriptorMixin(models.Model):
    """An object that carries a descriptor validated by a DescriptorSchema."""

    descriptor_schema = models.ForeignKey(
        "descriptors.DescriptorSchema", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    descriptor = models.JSONField(default=dict, blank=True)
    descriptor_dirty = models.BooleanField(default=False)

    class Meta:
        abstract = True


class Collection(DescriptorMixin, BaseModel):
    """A set of Data objects and Entities that share permissions."""

    description = models.TextField(default="", blank=True)
    settings = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    duplicated = models.DateTimeField(null=True, blank=True)
    permission_group = models.ForeignKey(
        "permissions.PermissionGroup", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["slug"], name="collection_slug")]


class Entity(DescriptorMixin, BaseModel):
    """A sample: the Data objects that describe one biological thing."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, null=True, blank=True, related_name="entities")
    type = models.CharField(max_length=100, null=True, blank=True, db_index=True)
    description = models.TextField(default="", blank=True)
    settings = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    duplicated = models.DateTimeField(null=True, blank=True)
    permission_group = models.ForeignKey(
        "permissions.PermissionGroup", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["slug"], name="entity_slug")]
        verbose_name_plural = "entities"
