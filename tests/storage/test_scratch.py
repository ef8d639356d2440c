"""Data directories on a scratch workspace (``STORAGE_LOCAL_SCRATCH``), on real S3 and GCS servers.

A flow run publishes its results to object storage before its Data object finishes and records
no copy on its own disk; a reader fetches its inputs, hash-checked, and removes them after.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from resolwe_prefect.data.models import Data, DataDependency, DataStatus
from resolwe_prefect.execution.run.outputs import publish_results
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.storage import config, scratch, staging
from resolwe_prefect.storage.models import FileStorage, StorageLocation
from resolwe_prefect.storage.record import record_data
from resolwe_prefect.storage.transfer import TransferError
from tests.data.conftest import make_process

pytestmark = pytest.mark.django_db

CONTENT = b"ACGT\n" * 4000


@pytest.fixture
def workspace(remote, settings):
    settings.STORAGE_LOCAL_SCRATCH = True
    return remote


@pytest.fixture
def processing(contributor, settings):
    """A Data object whose program has just ended, its results in its Data directory."""
    process = make_process(
        contributor, "scratch-proc", outputs=[{"name": "out", "label": "Out", "type": "basic:file:"}]
    )
    data = Data.objects.create(name="scratch", contributor=contributor, process=process,
                               status=DataStatus.PROCESSING, started=timezone.now())  # fmt: skip
    permissions.on_created(data)
    directory = settings.FLOW_EXECUTOR["DATA_DIR"] / str(data.pk)
    (directory / "sub").mkdir(parents=True)
    (directory / "reads.fq").write_bytes(CONTENT)
    (directory / "sub" / "stdout.txt").write_text("done\n")
    return data


def _locations(data: Data) -> dict[str, str]:
    return dict(StorageLocation.objects.filter(file_storage__data=data).values_list("connector_name", "status"))


def _objects(name: str, server, bucket: str) -> list[str]:
    if name == "S3":
        return sorted(item["Key"] for item in server.client().list_objects_v2(Bucket=bucket).get("Contents", []))
    return sorted(blob.name for blob in server.client().list_blobs(bucket))


def test_publish_keeps_the_results_in_object_storage_only(workspace, processing, settings):
    name, server, bucket = workspace
    assert publish_results(processing.pk, ok=True) == []
    storage = FileStorage.objects.get(data=processing)
    assert _locations(processing) == {name: "OK"}, "no copy on a scratch disk is recorded"
    assert _objects(name, server, bucket) == [f"storage-{storage.pk}/reads.fq", f"storage-{storage.pk}/sub/stdout.txt"]
    assert not (settings.FLOW_EXECUTOR["DATA_DIR"] / str(processing.pk) / "reads.fq").exists()

    Data.objects.filter(pk=processing.pk).update(status=DataStatus.DONE, finished=timezone.now())
    assert record_data(processing.pk) is None, "nothing of the finished object is on this host's disk"
    assert FileStorage.objects.filter(data=processing).get() == storage
    assert _locations(processing) == {name: "OK"}


def test_a_finished_object_keeps_the_storage_its_attempt_published(workspace, processing, settings):
    """The copy made just before the object finished is its current results, not a restarted attempt's."""
    publish_results(processing.pk, ok=True)
    storage = FileStorage.objects.get(data=processing)
    directory = settings.FLOW_EXECUTOR["DATA_DIR"] / str(processing.pk)
    directory.mkdir(exist_ok=True)
    Data.objects.filter(pk=processing.pk).update(status=DataStatus.DONE, finished=timezone.now())
    assert record_data(processing.pk) == storage


def test_a_reader_fetches_its_inputs_checked_and_removes_them_after(workspace, processing, contributor, settings):
    publish_results(processing.pk, ok=True)
    Data.objects.filter(pk=processing.pk).update(status=DataStatus.DONE, finished=timezone.now())
    reader = Data.objects.create(name="reader", contributor=contributor, process=processing.process,
                                 status=DataStatus.PROCESSING)  # fmt: skip
    other = Data.objects.create(name="other", contributor=contributor, process=processing.process,
                                status=DataStatus.WAITING)  # fmt: skip
    DataDependency.objects.create(parent=processing, child=reader, kind=DataDependency.KIND_IO)
    directory = settings.FLOW_EXECUTOR["DATA_DIR"] / str(processing.pk)

    assert staging.stage_inputs([processing.pk]) == [processing.pk]
    assert (directory / "reads.fq").read_bytes() == CONTENT
    assert (directory / "sub" / "stdout.txt").read_text() == "done\n"
    assert oct((directory / "reads.fq").stat().st_mode & 0o777) == "0o644"
    assert _locations(processing) == {workspace[0]: "OK"}, "a fetched copy is not recorded"
    assert staging.stage_inputs([processing.pk]) == [], "already fetched on this host"

    DataDependency.objects.create(parent=processing, child=other, kind=DataDependency.KIND_IO)
    assert staging.unstage([processing.pk], reader_id=reader.pk) == [], "another reader still needs them"
    assert (directory / "reads.fq").exists()
    other.delete()
    assert staging.unstage([processing.pk], reader_id=reader.pk) == [processing.pk]
    assert not (directory / "reads.fq").exists()


def test_a_changed_object_is_refused_and_leaves_nothing(workspace, processing, settings):
    name, server, bucket = workspace
    publish_results(processing.pk, ok=True)
    storage = FileStorage.objects.get(data=processing)
    key = f"storage-{storage.pk}/reads.fq"
    if name == "S3":
        server.client().put_object(Bucket=bucket, Key=key, Body=CONTENT.replace(b"A", b"T"))
    else:
        server.client().bucket(bucket).blob(key).upload_from_string(CONTENT.replace(b"A", b"T"))
    with pytest.raises(TransferError, match="not the recorded file"):
        scratch.fetch([processing.pk])
    directory = settings.FLOW_EXECUTOR["DATA_DIR"] / str(processing.pk)
    assert not (directory / "reads.fq").exists()
    assert not [path for path in directory.rglob(".fetch-*")], "no partial download is left"


def test_an_unreachable_bucket_fails_an_ok_run_and_keeps_its_files(workspace, processing, settings):
    name, server, bucket = workspace
    entry = settings.STORAGE_CONNECTORS[name]
    settings.STORAGE_CONNECTORS = {**settings.STORAGE_CONNECTORS,
                                   name: {**entry, "config": {**server.unreachable_config(), "priority": 10}}}  # fmt: skip
    errors = publish_results(processing.pk, ok=True)
    assert len(errors) == 1 and errors[0].startswith("Could not keep the results in object storage")
    assert publish_results(processing.pk, ok=False) == [], "an errored object ends as it would have"
    assert (settings.FLOW_EXECUTOR["DATA_DIR"] / str(processing.pk) / "reads.fq").read_bytes() == CONTENT
    assert _locations(processing) == {}, "no copy is recorded that was not made, nor one on a scratch disk"


def test_scratch_needs_an_object_storage_connector(settings, tmp_path):
    settings.STORAGE_CONNECTORS = {}
    settings.STORAGE_LOCAL_SCRATCH = True
    with pytest.raises(ImproperlyConfigured, match="object-storage connector"):
        config.local_is_scratch()
    settings.STORAGE_LOCAL_SCRATCH = False
    assert config.local_is_scratch() is False
    assert publish_results(1, ok=True) == [], "without a scratch workspace nothing is published early"


def test_the_publish_connector_is_the_object_store_of_the_lowest_priority_number(workspace, settings, s3_server):
    name = workspace[0]
    settings.STORAGE_CONNECTORS = {
        **settings.STORAGE_CONNECTORS,
        "archive": {
            **settings.STORAGE_CONNECTORS[name],
            "config": {**settings.STORAGE_CONNECTORS[name]["config"], "priority": 50},
        },
    }
    assert config.publish_connector_name() == name


def test_files_exported_to_a_child_go_to_the_upload_bucket_under_the_owners_prefix(s3_server, settings, tmp_path):
    """A child's flow run may run on another host: its exported input is an upload in the bucket."""
    from resolwe_prefect.execution.run.children import export_to_uploads
    from resolwe_prefect.storage.direct_uploads import fetch_upload
    from tests.storage.conftest import S3_CLASS

    bucket = s3_server.create_bucket()
    settings.STORAGE_CONNECTORS = {"S3": {"connector": S3_CLASS, "config": s3_server.connector_config(bucket)}}
    settings.FLOW_STORAGE = {"upload": {"connectors": ["S3"]}}
    settings.STORAGE_LOCAL_SCRATCH = True
    data_dir, runtime_dir = tmp_path / "data" / "5", tmp_path / "runtime" / "5"
    data_dir.mkdir(parents=True)
    runtime_dir.mkdir(parents=True)
    (data_dir / "part.fq").write_bytes(CONTENT)

    handles = export_to_uploads(5, data_dir, runtime_dir, ["part.fq", "missing.fq"], owner_id=12)
    assert list(handles) == ["part.fq"]
    assert handles["part.fq"].startswith(f"s3://{bucket}/12/export-5-")
    assert fetch_upload(handles["part.fq"], 12, tmp_path).read_bytes() == CONTENT
    with pytest.raises(FileNotFoundError):
        fetch_upload(handles["part.fq"], 13, tmp_path / "other")

    settings.STORAGE_LOCAL_SCRATCH = False
    (local,) = export_to_uploads(5, data_dir, runtime_dir, ["part.fq"], owner_id=12).values()
    assert local.startswith("export-5-"), "with a shared volume exports stay in the upload directory"
