"""Migration operations a site's apps use, by Resolwe's names (``resolwe.flow.migration_ops``).

``ResolweDataCleanup`` is how Resolwe purges temporary results: a migration that
includes it deletes every Data object of a TEMP process and every errored one (a process
whose outputs changed makes such results useless). Rows go in chunks, as Resolwe's
``delete_chunked`` does, with their orphaned Storage objects; the files go after the
migration's transaction commits.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.migrations.operations.base import Operation

from .files import remove_data_dirs

#: Data rows deleted per query.
CHUNK_SIZE = 500


def delete_chunked(queryset: Any, storages: Any, chunk_size: int = CHUNK_SIZE) -> list[int]:
    """Delete ``queryset`` in chunks, and the Storage objects no Data uses any more; the ids deleted."""
    deleted: list[int] = []
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:chunk_size])
        if not ids:
            return deleted
        storage_ids = list(storages.filter(data__in=ids).values_list("pk", flat=True).distinct())
        queryset.model.objects.filter(pk__in=ids).delete()
        storages.filter(pk__in=storage_ids, data__isnull=True).delete()
        deleted += ids


class ResolweDataCleanup(Operation):
    """Delete the Data objects of TEMP processes and the errored ones (Resolwe's operation of that name)."""

    reduces_to_sql = False
    atomic = True
    reversible = False

    def state_forwards(self, app_label: str, state: Any) -> None:
        """The schema does not change, only rows."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Delete the rows, then (after commit) the Data directories."""
        data = from_state.apps.get_model("data", "Data")
        storages = from_state.apps.get_model("data", "Storage").objects
        deleted = delete_chunked(data.objects.filter(process__persistence="TMP"), storages)
        deleted += delete_chunked(data.objects.filter(status="ER"), storages)
        transaction.on_commit(lambda: remove_data_dirs(deleted))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Deleted results cannot come back."""
        raise NotImplementedError("ResolweDataCleanup cannot be reversed.")

    def describe(self) -> str:
        """What ``migrate`` prints."""
        return "Delete the Data objects of TEMP processes and errored Data objects"
