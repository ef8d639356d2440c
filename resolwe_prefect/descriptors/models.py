"""DescriptorSchema, a field schema that validates an object's ``descriptor``, and the fields that carry one."""

from __future__ import annotations

from django.db import models

from resolwe_prefect.core.models import BaseModel
from resolwe_prefect.permissions.models import PermissionObject


class DescriptorSchema(PermissionObject, BaseModel):
    """One version of a descriptor schema, registered from YAML or created via the API."""

    description = models.TextField(default="", blank=True)
    schema = models.JSONField(default=list, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["slug", "version"], name="descriptorschema_slug_version")]

    def save(self, *args, **kwargs):
        if not self.slug:
            raise ValueError("A DescriptorSchema needs a slug.")
        super().save(*args, **kwargs)


class DescriptorMixin(models.Model):
    """An object that carries a descriptor validated by a DescriptorSchema."""

    descriptor_schema = models.ForeignKey(
        DescriptorSchema, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    descriptor = models.JSONField(default=dict, blank=True)
    descriptor_dirty = models.BooleanField(default=False)

    class Meta:
        abstract = True
