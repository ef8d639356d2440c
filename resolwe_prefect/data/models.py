"""Data, DataDependency and Storage, with Resolwe's names and status codes."""

from __future__ import annotations

from django.db import models

from resolwe_prefect.core.models import BaseModel
from resolwe_prefect.descriptors.models import DescriptorMixin
from resolwe_prefect.permissions.models import PermissionObject


class DataStatus(models.TextChoices):
    """Resolwe's status codes. Their order is the order of "worse": ``UP < ... < DR``."""

    UPLOADING = "UP", "Uploading"
    RESOLVING = "RE", "Resolving"
    WAITING = "WT", "Waiting"
    PREPARING = "PP", "Preparing"
    PROCESSING = "PR", "Processing"
    DONE = "OK", "Done"
    ERROR = "ER", "Error"
    DIRTY = "DR", "Dirty"


STATUS_ORDER = [value for value, _label in DataStatus.choices]
FINAL_STATUSES = frozenset({DataStatus.DONE, DataStatus.ERROR, DataStatus.DIRTY})
ACTIVE_STATUSES = frozenset({DataStatus.RESOLVING, DataStatus.WAITING, DataStatus.PREPARING, DataStatus.PROCESSING})


def worse_status(current: str, new: str) -> str:
    """Return the worse of two statuses; Resolwe never moves a status backwards."""
    return max(current, new, key=STATUS_ORDER.index)


class Data(DescriptorMixin, PermissionObject, BaseModel):
    """One instance of a Process: its inputs, outputs and processing state.

    Each attempt at processing is one Prefect flow run, whose id is kept in
    ``flow_run_id``; ``attempt`` counts restarts so that every attempt gets
    its own idempotency key.
    """

    process = models.ForeignKey("processes.Process", on_delete=models.PROTECT, related_name="data")
    status = models.CharField(max_length=2, choices=DataStatus.choices, default=DataStatus.RESOLVING, db_index=True)
    input = models.JSONField(default=dict, blank=True)
    output = models.JSONField(default=dict, blank=True)
    checksum = models.CharField(max_length=64, db_index=True, default="")
    size = models.BigIntegerField(default=0)
    tags = models.JSONField(default=list, blank=True)
    named_by_user = models.BooleanField(default=False)

    process_progress = models.PositiveSmallIntegerField(default=0)
    process_rc = models.IntegerField(null=True, blank=True)
    process_info = models.JSONField(default=list, blank=True)
    process_warning = models.JSONField(default=list, blank=True)
    process_error = models.JSONField(default=list, blank=True)
    process_resources = models.JSONField(default=dict, blank=True)
    process_cores = models.PositiveSmallIntegerField(default=1)
    process_memory = models.PositiveIntegerField(default=4096)

    scheduled = models.DateTimeField(null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    duplicated = models.DateTimeField(null=True, blank=True)

    collection = models.ForeignKey(
        "entities.Collection", on_delete=models.CASCADE, null=True, blank=True, related_name="data"
    )
    entity = models.ForeignKey("entities.Entity", on_delete=models.CASCADE, null=True, blank=True, related_name="data")

    flow_run_id = models.UUIDField(null=True, blank=True, db_index=True)
    attempt = models.PositiveIntegerField(default=1)

    parents = models.ManyToManyField(
        "self", through="DataDependency", through_fields=("child", "parent"), symmetrical=False, related_name="children"
    )

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["slug"], name="data_slug")]
        verbose_name_plural = "data"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class DataDependency(models.Model):
    """A link between two Data objects: an input (io), a spawned child (subprocess) or a copy (duplicate)."""

    KIND_IO = "io"
    KIND_SUBPROCESS = "subprocess"
    KIND_DUPLICATE = "duplicate"
    KIND_CHOICES = [(KIND_IO, "Input/output"), (KIND_SUBPROCESS, "Subprocess"), (KIND_DUPLICATE, "Duplicate")]

    parent = models.ForeignKey(Data, on_delete=models.SET_NULL, null=True, related_name="children_dependency")
    child = models.ForeignKey(Data, on_delete=models.CASCADE, related_name="parents_dependency")
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)

    class Meta:
        indexes = [models.Index(fields=["parent", "kind"])]


class Storage(BaseModel):
    """A large JSON document produced by a process (a ``basic:json:`` output holds its id)."""

    json = models.JSONField(default=dict)
    data = models.ManyToManyField(Data, related_name="storages")

    class Meta(BaseModel.Meta):
        verbose_name_plural = "storages"
