"""Upload: who a ``file_temp`` handle was issued to, and how far its chunks got.

The file itself lives in ``UPLOAD_DIR`` (see ``storage``). The row is what
makes a handle the uploader's own: Data creation accepts a handle only from
its owner, so a handle seen in someone else's shared Data input cannot be
used to read their file, and it lets the chunk protocol refuse gaps,
overlaps and sizes that disagree with what already arrived.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Upload(models.Model):
    """One file sent through ``/upload/``; ``completed`` is set once all ``total_size`` bytes are there."""

    handle = models.CharField(max_length=128, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255, blank=True, default="")
    total_size = models.BigIntegerField()
    #: Bytes received so far: the offset the next chunk must start at.
    size = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    completed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.handle} ({self.size}/{self.total_size})"
