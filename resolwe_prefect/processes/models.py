"""The Process model: one registered version of a process definition."""

from __future__ import annotations

from django.db import models

from resolwe_prefect.core.models import BaseModel
from resolwe_prefect.permissions.models import PermissionObject


class Process(PermissionObject, BaseModel):
    """A process definition, as registered from YAML.

    ``input_schema``/``output_schema`` keep the normalized field lists (types
    end with ``:``); ``run`` holds ``language`` and ``program``.
    """

    PERSISTENCE_RAW = "RAW"
    PERSISTENCE_CACHED = "CAC"
    PERSISTENCE_TEMP = "TMP"
    PERSISTENCE_CHOICES = [(PERSISTENCE_RAW, "Raw"), (PERSISTENCE_CACHED, "Cached"), (PERSISTENCE_TEMP, "Temp")]

    SCHEDULING_CLASS_INTERACTIVE = "IN"
    SCHEDULING_CLASS_BATCH = "BA"
    SCHEDULING_CLASS_CHOICES = [(SCHEDULING_CLASS_INTERACTIVE, "Interactive"), (SCHEDULING_CLASS_BATCH, "Batch")]

    type = models.CharField(max_length=100, db_index=True)
    category = models.CharField(max_length=200, default="Other:")
    description = models.TextField(default="", blank=True)
    data_name = models.CharField(max_length=200, null=True, blank=True)
    entity_type = models.CharField(max_length=100, null=True, blank=True)
    entity_descriptor_schema = models.CharField(max_length=100, null=True, blank=True)
    entity_input = models.CharField(max_length=100, null=True, blank=True)
    entity_always_create = models.BooleanField(default=False)
    persistence = models.CharField(max_length=3, choices=PERSISTENCE_CHOICES, default=PERSISTENCE_RAW)
    scheduling_class = models.CharField(max_length=2, choices=SCHEDULING_CLASS_CHOICES, default=SCHEDULING_CLASS_BATCH)
    is_active = models.BooleanField(default=True, db_index=True)
    input_schema = models.JSONField(default=list, blank=True)
    output_schema = models.JSONField(default=list, blank=True)
    run = models.JSONField(default=dict, blank=True)
    requirements = models.JSONField(default=dict, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["slug", "version"], name="process_slug_version")]
        indexes = [models.Index(fields=["slug", "-version"])]

    def save(self, *args, **kwargs):
        # Process slugs come from the YAML; several versions share one slug.
        if not self.slug:
            raise ValueError("A Process needs a slug.")
        super().save(*args, **kwargs)
