"""FileStorage, StorageLocation and ReferencedPath, with Resolwe's names and meaning.

A Data object's files are one :class:`FileStorage`; each place that holds a complete copy is a
:class:`StorageLocation` (a connector and the url under it, the Data id); every file is a
:class:`ReferencedPath` with its size and hashes, linked to the locations that hold it.
"""

from __future__ import annotations

from django.db import models

from resolwe_prefect.storage.hashing import CHUNK_SIZE


class FileStorage(models.Model):
    """The files of one Data object, wherever they are."""

    created = models.DateTimeField(auto_now_add=True)
    #: ``None`` once the Data object is deleted: its remaining copies are then cleaned up.
    data = models.OneToOneField("data.Data", null=True, blank=True, on_delete=models.SET_NULL, related_name="location")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"FileStorage(pk={self.pk}, data={self.data_id})"


class StorageLocation(models.Model):
    """A complete copy (once ``OK``) of a FileStorage under one connector."""

    STATUS_PREPARING = "PR"
    STATUS_UPLOADING = "UP"
    STATUS_DONE = "OK"
    STATUS_DELETING = "DE"
    STATUS_CHOICES = [
        (STATUS_PREPARING, "Preparing"),
        (STATUS_UPLOADING, "Uploading"),
        (STATUS_DONE, "Done"),
        (STATUS_DELETING, "Deleting"),
    ]

    file_storage = models.ForeignKey(FileStorage, on_delete=models.CASCADE, related_name="storage_locations")
    #: The prefix of the files' keys under the connector (the Data id).
    url = models.CharField(max_length=60)
    connector_name = models.CharField(max_length=30)
    last_update = models.DateTimeField(auto_now=True)
    status = models.CharField(max_length=2, choices=STATUS_CHOICES, default=STATUS_PREPARING)

    class Meta:
        unique_together = ("url", "connector_name")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"StorageLocation(pk={self.pk}, connector={self.connector_name}, url={self.url})"

    def key(self, path: str) -> str:
        """The key of the file ``path`` (relative to the Data directory) under the connector."""
        return f"{self.url}/{path}"


class ReferencedPath(models.Model):
    """One file of a FileStorage: path relative to the Data directory, size and hashes."""

    #: The FileStorage the file belongs to (Resolwe reaches it through the locations; a file keeps
    #: it while it moves between locations).
    file_storage = models.ForeignKey(FileStorage, on_delete=models.CASCADE, related_name="files")
    path = models.TextField(db_index=True)
    size = models.BigIntegerField(default=-1)
    storage_locations = models.ManyToManyField(StorageLocation, related_name="files")
    md5 = models.CharField(max_length=32)
    crc32c = models.CharField(max_length=8)
    awss3etag = models.CharField(max_length=50)
    chunk_size = models.IntegerField(default=CHUNK_SIZE)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"ReferencedPath({self.path})"


class AccessLog(models.Model):
    """A reading of a copy in progress, as Resolwe's: while ``finished`` is unset the copy is not deleted.

    A flow run opens one on the local copy of each of its inputs and closes it when its Data
    object is done with them; the manager opens one on the source of every copy it makes.
    """

    storage_location = models.ForeignKey(StorageLocation, on_delete=models.CASCADE, related_name="access_logs")
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=120)
    #: The Data object that reads (``None``: the storage manager); its deletion takes its logs along.
    cause = models.ForeignKey("data.Data", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"AccessLog(location={self.storage_location_id}, reason={self.reason!r})"
