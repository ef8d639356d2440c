"""RelationType, Relation and RelationPartition, with Resolwe's fields.

A relation groups entities of one collection (replicates, a time series, a
case against its background). It has no permissions of its own: it is
visible and editable exactly as its collection is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from resolwe_prefect.descriptors.models import DescriptorMixin


class RelationType(models.Model):
    """The kind of a relation; ``ordered`` types (``series``) give partitions a position."""

    name = models.CharField(max_length=100, unique=True)
    ordered = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Relation(DescriptorMixin, models.Model):
    """A grouping of a collection's entities, unique per (collection, category)."""

    UNIT_CHOICES = [("s", "Second"), ("min", "Minute"), ("hr", "Hour"), ("d", "Day"), ("wk", "Week")]

    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    modified = models.DateTimeField(auto_now=True, db_index=True)
    collection = models.ForeignKey("entities.Collection", on_delete=models.CASCADE, related_name="relations")
    type = models.ForeignKey(RelationType, on_delete=models.PROTECT, related_name="relations")
    category = models.CharField(max_length=100)
    unit = models.CharField(max_length=3, choices=UNIT_CHOICES, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["collection", "category"], name="relation_collection_category")]

    def __str__(self) -> str:
        return f"{self.type_id}:{self.category}"

    def save(self, *args, **kwargs):
        """Categories compare case-insensitively in Resolwe, so they are stored lower-cased."""
        self.category = (self.category or "").lower()
        super().save(*args, **kwargs)


class RelationPartition(models.Model):
    """One entity's place in a relation: an optional ``label`` and ``position``."""

    relation = models.ForeignKey(Relation, on_delete=models.CASCADE, related_name="partitions")
    entity = models.ForeignKey("entities.Entity", on_delete=models.CASCADE, related_name="relation_partitions")
    label = models.CharField(max_length=30, null=True, blank=True, db_index=True)
    position = models.PositiveIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["entity", "relation"], name="relation_partition_entity")]
