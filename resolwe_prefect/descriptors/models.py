"""DescriptorSchema: a field schema that validates an object's ``descriptor``."""

from __future__ import annotations

from django.db import models

from resolwe_prefect.core.models import BaseModel


class DescriptorSchema(BaseModel):
    """One version of a descriptor schema, registered from YAML or created via the API."""

    description = models.TextField(default="", blank=True)
    schema = models.JSONField(default=list, blank=True)
    permission_group = models.ForeignKey(
        "permissions.PermissionGroup", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["slug", "version"], name="descriptorschema_slug_version")]

    def save(self, *args, **kwargs):
        if not self.slug:
            raise ValueError("A DescriptorSchema needs a slug.")
        super().save(*args, **kwargs)
