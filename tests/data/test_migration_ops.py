"""``ResolweDataCleanup``: the migration operation that purges TEMP results and errored Data, as Resolwe's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from resolwe_prefect.data.migration_ops import ResolweDataCleanup
from resolwe_prefect.data.models import Data, DataStatus, Storage
from resolwe_prefect.processes.models import Process

pytestmark = pytest.mark.django_db


def test_temp_and_errored_data_go_with_their_files_and_storages(
    make_finished, task_process, data_root, django_capture_on_commit_callbacks
):
    kept = make_finished(name="raw result")
    errored = make_finished(name="failed", status=DataStatus.ERROR)
    temp_process = Process.objects.create(
        slug="temp-proc", name="Temp", version="1.0.0", type="data:temp:", contributor=task_process.contributor,
        persistence=Process.PERSISTENCE_TEMP,
    )  # fmt: skip
    temporary = make_finished(name="temporary")
    Data.objects.filter(pk=temporary.pk).update(process=temp_process)
    storages = {data.pk: list(data.storages.values_list("pk", flat=True)) for data in (kept, errored, temporary)}

    state = MigrationExecutor(connection).loader.project_state()
    with django_capture_on_commit_callbacks(execute=True):
        with connection.schema_editor() as editor:
            ResolweDataCleanup().database_forwards("data", editor, state, state)

    assert list(Data.objects.values_list("pk", flat=True)) == [kept.pk]
    assert Storage.objects.filter(pk__in=storages[kept.pk]).count() == 1
    assert not Storage.objects.filter(pk__in=storages[errored.pk] + storages[temporary.pk]).exists()
    assert (data_root / str(kept.pk)).is_dir()
    assert not (data_root / str(errored.pk)).exists() and not (data_root / str(temporary.pk)).exists()
    with pytest.raises(NotImplementedError):
        ResolweDataCleanup().database_backwards("data", None, state, state)
