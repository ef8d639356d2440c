"""The abstract base every Resolwe object shares."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models, transaction

from .fields import VersionField
from .slugs import SLUG_MAX_LENGTH, lock_slug, truncate_name, unique_slug

SLUG_ATTEMPTS = 5


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
        """Fill the slug from the name on first save, as Resolwe does.

        Concurrent creations of same-named objects may pick the same slug;
        the loser's insert is refused by the unique constraint inside a
        savepoint and it takes the next free slug, instead of failing the
        request with a 409 it did nothing to deserve.
        """
        self.name = truncate_name(self.name or "")
        if self.slug:
            return super().save(*args, **kwargs)
        base = self.name or type(self)._meta.model_name
        for attempt in range(SLUG_ATTEMPTS):
            try:
                with transaction.atomic():
                    lock_slug(type(self), base)
                    self.slug = unique_slug(type(self), base, exclude_pk=self.pk)
                    return super().save(*args, **kwargs)
            except IntegrityError as error:
                if "slug" not in str(error) or attempt == SLUG_ATTEMPTS - 1:
                    raise
