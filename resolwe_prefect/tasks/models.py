"""``BackgroundTask``: what ``/api/task/<id>`` reports while a long operation runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TaskStatus(models.TextChoices):
    """Resolwe's task status codes; resdk treats OK and ER as final."""

    WAITING = "WT", "Waiting"
    PROCESSING = "PR", "Processing"
    DONE = "OK", "Done"
    ERROR = "ER", "Error"


FINAL_TASK_STATUSES = frozenset({TaskStatus.DONE, TaskStatus.ERROR})


class BackgroundTask(models.Model):
    """One long operation started by a user (duplicate, delete or move), run by ``runner``.

    ``output`` is whatever the operation returns (a list of new ids for
    duplicate, ``"Task completed."`` otherwise) or, on ER, the error message.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    started = models.DateTimeField(auto_now_add=True, db_index=True)
    finished = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=2, choices=TaskStatus.choices, default=TaskStatus.WAITING, db_index=True)
    description = models.CharField(max_length=256, default="", blank=True)
    output = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.description} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_TASK_STATUSES
