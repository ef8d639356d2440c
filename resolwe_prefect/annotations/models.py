"""Annotation groups, fields, presets and values, as in resolwe/flow/models/annotations.py.

Differences from Resolwe, on purpose:

* a value is one row per (entity, field); writing again replaces it and
  deleting removes the row (Resolwe keeps an audit trail with delete markers);
* a field has a single version, so ``version`` is informational;
* the Collection ↔ AnnotationField link lives here (``AnnotationField.collections``)
  so the entities app does not depend on this one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from resolwe_prefect.permissions.models import PermissionObject


class AnnotationType(models.TextChoices):
    """The value types Resolwe supports; the type decides how a value is validated."""

    DATE = "DATE"
    DECIMAL = "DECIMAL"
    INTEGER = "INTEGER"
    STRING = "STRING"


NAME_LENGTH = 128


class AnnotationGroup(models.Model):
    """A named group of fields; ``group.field`` is how processes and resdk address a field."""

    name = models.CharField(max_length=NAME_LENGTH, unique=True)
    label = models.CharField(max_length=NAME_LENGTH)
    sort_order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class AnnotationField(models.Model):
    """One annotation a sample can carry, with its type and optional vocabulary and regex."""

    name = models.CharField(max_length=NAME_LENGTH)
    label = models.CharField(max_length=NAME_LENGTH)
    description = models.CharField(max_length=256, blank=True, default="")
    type = models.CharField(max_length=16, choices=AnnotationType.choices)
    group = models.ForeignKey(AnnotationGroup, on_delete=models.CASCADE, related_name="fields")
    sort_order = models.PositiveSmallIntegerField()
    validator_regex = models.CharField(max_length=128, null=True, blank=True)
    #: ``{value: label}``; when set, only its keys are valid values.
    vocabulary = models.JSONField(null=True, blank=True)
    required = models.BooleanField(default=False)
    version = models.CharField(max_length=32, default="1.0.0")
    #: The fields a collection shows for its samples (resdk's ``set_annotation_fields``).
    collections = models.ManyToManyField("entities.Collection", related_name="annotation_fields", blank=True)

    class Meta:
        ordering = ["group__sort_order", "sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(type__in=AnnotationType.values), name="annotation_type"),
            models.UniqueConstraint(fields=["name", "group"], name="uniquetogether_name_group"),
        ]

    def __str__(self) -> str:
        """``group.field``: the path used in error messages (``... for the field general.species.``)."""
        return f"{self.group.name}.{self.name}"


class AnnotationPreset(PermissionObject):
    """A named set of fields users pick from when annotating; as in Resolwe, the contributor owns a new one."""

    name = models.CharField(max_length=NAME_LENGTH)
    sort_order = models.PositiveSmallIntegerField(default=0)
    fields = models.ManyToManyField(AnnotationField, related_name="presets", blank=True)
    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class AnnotationValue(models.Model):
    """The value of one field on one entity.

    ``_value`` holds ``{"value": v, "label": l}`` as in Resolwe, so the label
    (the vocabulary's text for ``v``) is stored next to the value and can be
    filtered and sorted on without a join.
    """

    entity = models.ForeignKey("entities.Entity", on_delete=models.CASCADE, related_name="annotations")
    field = models.ForeignKey(AnnotationField, on_delete=models.CASCADE, related_name="values")
    _value = models.JSONField(default=dict)
    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["entity", "field"], name="uniquetogether_entity_field")]

    @property
    def value(self) -> Any:
        return self._value.get("value")

    @property
    def label(self) -> Any:
        return self._value.get("label")

    def __str__(self) -> str:
        return f"{self.label}"
