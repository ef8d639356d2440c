"""The abstract base every Resolwe object shares."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .fields import VersionField
from .slugs import SLUG_MAX_LENGTH, truncate_name, unique_slug


class BaseModel(models.Model):
    """Slug, version, name, contributor and timestamps, as in Resolwe's BaseModel."""

    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, db_index=True)
    version = VersionField(default="0.0.0")
    name = models.CharField(max_length=100)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    modified = models.DateTimeField(auto_now=True, db_index=True)
    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def save(self, *args, **kwargs):
        """Fill the slug from the name on first save, as Resolwe does."""
        self.name = truncate_name(self.name or "")
        if not self.slug:
            self.slug = unique_slug(type(self), self.name or type(self)._meta.model_name, exclude_pk=self.pk)
        super().save(*args, **kwargs)
