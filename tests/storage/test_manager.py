"""The storage framework on real servers: record, copy by rules, clean up, serve and stage back.

A local and an object-storage connector (moto's S3 server or gcp-storage-emulator), copy delay
0, local delete delay 0 with one other copy: the manager copies a Data object's files to the
bucket, the cleanup removes the local copy, the API still serves the file, and a reader gets
it staged back, hash-checked. A bucket that cannot be reached loses nothing.
"""

from __future__ import annotations

import pytest
import requests
from django.utils import timezone
from rest_framework.test import APIClient

from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.storage import config, staging
from resolwe_prefect.storage.manager import run_cleanup, run_manager
from resolwe_prefect.storage.models import FileStorage, ReferencedPath, StorageLocation
from resolwe_prefect.storage.record import record_data
from tests.data.conftest import make_process

pytestmark = pytest.mark.django_db

CONTENT = b"reads\n" * 1000


@pytest.fixture
def finished(contributor, settings):
    """An OK Data object with two files, recorded as a finished run records it."""
    process = make_process(
        contributor, "storage-proc", outputs=[{"name": "out", "label": "Out", "type": "basic:file:"}]
    )
    data = Data.objects.create(name="stored", contributor=contributor, process=process, status=DataStatus.DONE,
                               output={"out": {"file": "reads.fq"}}, finished=timezone.now())  # fmt: skip
    permissions.on_created(data)
    directory = settings.FLOW_EXECUTOR["DATA_DIR"] / str(data.pk)
    (directory / "sub").mkdir(parents=True)
    (directory / "reads.fq").write_bytes(CONTENT)
    (directory / "sub" / "stdout.txt").write_text("done\n")
    record_data(data.pk)
    return data


def _locations(data: Data) -> dict[str, str]:
    return dict(StorageLocation.objects.filter(file_storage__data=data).values_list("connector_name", "status"))


def test_files_are_recorded_with_their_hashes(remote, finished):
    storage = FileStorage.objects.get(data=finished)
    reads = ReferencedPath.objects.get(file_storage=storage, path="reads.fq")
    assert reads.size == len(CONTENT) and len(reads.md5) == 32 and len(reads.crc32c) == 8 and reads.awss3etag
    assert sorted(storage.files.values_list("path", flat=True)) == ["reads.fq", "sub/stdout.txt"]
    assert _locations(finished) == {"local": "OK"}


def test_copy_cleanup_download_and_stage_back(remote, finished, user_client, settings):
    name, server, bucket = remote
    report = run_manager()
    assert report.copied == [(finished.pk, name)] and not report.failed
    assert _locations(finished) == {"local": "OK", name: "OK"}

    report = run_cleanup()
    assert report.deleted == [(finished.pk, "local")]
    assert _locations(finished) == {name: "OK"}
    assert not (settings.FLOW_EXECUTOR["DATA_DIR"] / str(finished.pk) / "reads.fq").exists()
    assert run_cleanup().deleted == [], "the last copy is never deleted"

    response = user_client.get(f"/data/{finished.pk}/reads.fq")
    if response.status_code == 302:  # a presigned URL of the bucket
        assert requests.get(response["Location"], timeout=30).content == CONTENT
    else:  # streamed through the server when the store cannot presign
        assert response.status_code == 200 and b"".join(response.streaming_content) == CONTENT
    listing = user_client.get(f"/data/{finished.pk}/").json()
    assert [(entry["name"], entry["type"]) for entry in listing] == [("reads.fq", "file"), ("sub", "directory")]
    assert listing[0]["md5"] == ReferencedPath.objects.get(path="reads.fq", file_storage__data=finished).md5

    assert staging.stage_inputs([finished.pk]) == [finished.pk]
    assert (settings.FLOW_EXECUTOR["DATA_DIR"] / str(finished.pk) / "reads.fq").read_bytes() == CONTENT
    assert _locations(finished) == {name: "OK", "local": "OK"}
    assert staging.stage_inputs([finished.pk]) == [], "already local"
    assert staging.unstage([finished.pk], reader_id=0) == [finished.pk]
    assert _locations(finished) == {name: "OK"}


def test_an_unreachable_bucket_loses_nothing_and_the_next_pass_copies(remote, finished, settings):
    name, server, bucket = remote
    reachable = settings.STORAGE_CONNECTORS[name]
    settings.STORAGE_CONNECTORS = {**settings.STORAGE_CONNECTORS,
                                   name: {**reachable, "config": {**server.unreachable_config(), "copy": {"delay": 0}}}}  # fmt: skip
    report = run_manager()
    assert report.copied == [] and len(report.failed) == 1
    assert _locations(finished) == {"local": "OK"}
    assert run_cleanup().deleted == []
    assert (settings.FLOW_EXECUTOR["DATA_DIR"] / str(finished.pk) / "reads.fq").read_bytes() == CONTENT

    settings.STORAGE_CONNECTORS = {**settings.STORAGE_CONNECTORS, name: reachable}
    assert run_manager().copied == [(finished.pk, name)]


def test_rules_wait_for_their_delay_and_overrides(remote, finished, settings):
    name, _server, _bucket = remote
    entry = settings.STORAGE_CONNECTORS[name]
    later = {"delay": 2, "data_slug": {"never-this": {"delay": 0}}}
    settings.STORAGE_CONNECTORS = {
        **settings.STORAGE_CONNECTORS,
        name: {**entry, "config": {**entry["config"], "copy": later}},
    }
    assert run_manager().copied == []
    later["data_slug"] = {finished.slug: {"delay": 0}}
    settings.STORAGE_CONNECTORS = {
        **settings.STORAGE_CONNECTORS,
        name: {**entry, "config": {**entry["config"], "copy": later}},
    }
    assert run_manager().copied == [(finished.pk, name)]


def test_copies_of_deleted_data_are_removed(remote, finished):
    name, _server, _bucket = remote
    run_manager()
    storage = FileStorage.objects.get(data=finished)
    Data.objects.filter(pk=finished.pk).delete()
    report = run_cleanup()
    assert sorted(connector for _data, connector in report.deleted) == sorted(["local", name])
    assert not FileStorage.objects.filter(pk=storage.pk).exists()


def test_resolve_uris_signs_files_kept_only_in_object_storage(remote, finished, user_client):
    run_manager()
    run_cleanup()
    uri = f"{finished.pk}/reads.fq"
    resolved = user_client.post("/resolve_uris/", {"uris": [uri, f"{finished.pk}/missing.txt"]}, format="json").json()
    assert resolved[f"{finished.pk}/missing.txt"] == ""
    response = APIClient().get(resolved[uri])  # the signature is the credential
    if response.status_code == 302:
        assert requests.get(response["Location"], timeout=30).content == CONTENT
    else:
        assert response.status_code == 200 and b"".join(response.streaming_content) == CONTENT


def test_the_migration_records_data_that_finished_before_the_storage_app(remote, contributor, settings):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("resolwe_prefect.storage.migrations.0002_record_existing_data")
    process = make_process(contributor, "old-proc")
    old = Data.objects.create(name="old", contributor=contributor, process=process, status=DataStatus.DONE)
    directory = settings.FLOW_EXECUTOR["DATA_DIR"] / str(old.pk)
    directory.mkdir()
    (directory / "old.txt").write_text("from before\n")
    migration.record_existing(apps, None)
    storage = FileStorage.objects.get(data=old)
    assert list(storage.files.values_list("path", "size")) == [("old.txt", 12)]
    assert _locations(old) == {"local": "OK"}


def test_a_restarted_objects_earlier_copies_are_cleaned_up_and_its_new_results_copied(remote, finished, settings):
    name, _server, _bucket = remote
    run_manager()
    earlier = FileStorage.objects.get(data=finished)
    remote_keys = [f"storage-{earlier.pk}/reads.fq"]
    connector = config.connector(name)
    assert all(connector.exists(key) for key in remote_keys)
    # The object ran again: new results in its directory, finished later than the recording.
    (settings.FLOW_EXECUTOR["DATA_DIR"] / str(finished.pk) / "reads.fq").write_bytes(b"second run\n")
    Data.objects.filter(pk=finished.pk).update(finished=timezone.now())
    current = record_data(finished.pk)
    assert current is not None and current.pk != earlier.pk
    assert FileStorage.objects.get(pk=earlier.pk).data_id is None
    assert ReferencedPath.objects.get(file_storage=current, path="reads.fq").size == len(b"second run\n")
    report = run_cleanup()
    assert report.deleted == [(None, name)]
    assert not any(connector.exists(key) for key in remote_keys)
    assert (settings.FLOW_EXECUTOR["DATA_DIR"] / str(finished.pk) / "reads.fq").read_bytes() == b"second run\n"
    assert run_manager().copied == [(finished.pk, name)]
    assert connector.exists(f"storage-{current.pk}/reads.fq")


def test_a_file_name_no_store_takes_fails_only_its_own_copy(remote, finished, contributor, settings):
    """A program may leave any name (here a backslash); its copy fails, the other objects' copies go on."""
    name, _server, _bucket = remote
    process = make_process(contributor, "odd-names")
    odd = Data.objects.create(name="odd", contributor=contributor, process=process, status=DataStatus.DONE,
                              finished=timezone.now())  # fmt: skip
    directory = settings.FLOW_EXECUTOR["DATA_DIR"] / str(odd.pk)
    directory.mkdir()
    (directory / "back\\slash.txt").write_text("odd\n")
    record_data(odd.pk)
    report = run_manager()
    assert report.copied == [(finished.pk, name)]
    assert len(report.failed) == 1 and f"Data {odd.pk}" in report.failed[0]
    assert _locations(odd) == {"local": "OK"}


def test_an_input_being_read_is_not_deleted_until_its_reader_is_done(remote, finished, contributor, settings):
    """Resolwe's access logs: the cleanup leaves a copy that a running program reads."""
    from resolwe_prefect.data.transitions import data_finished
    from resolwe_prefect.storage.models import AccessLog

    name, _server, _bucket = remote
    run_manager()
    reader = Data.objects.create(name="reader", contributor=contributor, process=finished.process,
                                 status=DataStatus.PROCESSING)  # fmt: skip
    assert staging.stage_inputs([finished.pk], reader_id=reader.pk) == [], "already local"
    (log,) = AccessLog.objects.filter(cause=reader)
    assert log.finished is None and log.storage_location.connector_name == "local"
    assert run_cleanup().deleted == [], "the reader's input stays"
    assert (settings.FLOW_EXECUTOR["DATA_DIR"] / str(finished.pk) / "reads.fq").exists()

    data_finished.send(sender=Data, data_id=reader.pk)  # however the reader's flow run ended
    assert AccessLog.objects.get(pk=log.pk).finished is not None
    assert run_cleanup().deleted == [(finished.pk, "local")]
    assert _locations(finished) == {name: "OK"}


def test_the_manager_reads_the_source_of_a_copy_under_a_log(remote, finished):
    from resolwe_prefect.storage.models import AccessLog

    name, _server, _bucket = remote
    run_manager()
    (log,) = AccessLog.objects.all()
    assert log.reason == f"Copy to {name}" and log.cause is None and log.finished is not None
    assert log.storage_location.connector_name == "local"


def test_a_bucket_that_goes_down_mid_copy_loses_nothing_and_the_next_pass_copies(
    contributor, settings, tmp_path, monkeypatch
):
    """A real outage: the S3 server stops after the first file of a copy is in, and comes back later."""
    from moto.server import ThreadedMotoServer

    from resolwe_prefect.storage.connectors.s3 import AwsS3Connector
    from tests.storage.conftest import LOCAL_CLASS, S3_CLASS
    from tests.storage.servers import start_s3

    server, handle = start_s3(tmp_path)
    port = int(handle.endpoint_url.rsplit(":", 1)[1])
    bucket = handle.create_bucket()
    data_dir = tmp_path / "data"
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": data_dir}
    settings.STORAGE_CONNECTORS = {
        "local": {"connector": LOCAL_CLASS, "config": {"priority": 0, "path": str(data_dir)}},
        "S3": {"connector": S3_CLASS, "config": {**handle.connector_config(bucket), "copy": {"delay": 0}}},
    }
    process = make_process(contributor, "outage-proc")
    data = Data.objects.create(name="outage", contributor=contributor, process=process, status=DataStatus.DONE,
                               finished=timezone.now())  # fmt: skip
    (data_dir / str(data.pk) / "sub").mkdir(parents=True)
    (data_dir / str(data.pk) / "a.fq").write_bytes(CONTENT)
    (data_dir / str(data.pk) / "sub" / "b.fq").write_bytes(CONTENT * 2)
    record_data(data.pk)

    real_push = AwsS3Connector.push
    pushed: list[str] = []

    def push_then_go_down(self, source, key):
        real_push(self, source, key)
        pushed.append(key)
        server.stop()  # the store is gone before the next file

    monkeypatch.setattr(AwsS3Connector, "push", push_then_go_down)
    try:
        report = run_manager()
        assert report.copied == [] and len(report.failed) == 1, report.lines()
        assert pushed == [f"storage-{FileStorage.objects.get(data=data).pk}/a.fq"]
        assert _locations(data) == {"local": "OK"}, "no copy is recorded that is not complete"
        assert run_cleanup().deleted == []
        assert (data_dir / str(data.pk) / "sub" / "b.fq").read_bytes() == CONTENT * 2

        monkeypatch.setattr(AwsS3Connector, "push", real_push)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()  # back, on the same endpoint
        report = run_manager()
        assert report.copied == [(data.pk, "S3")] and not report.failed
        assert _locations(data) == {"local": "OK", "S3": "OK"}
        keys = sorted(item["Key"] for item in handle.client().list_objects_v2(Bucket=bucket)["Contents"])
        assert [key.split("/", 1)[1] for key in keys] == ["a.fq", "sub/b.fq"]
    finally:
        server.stop()


def test_a_duplicate_of_data_kept_only_in_object_storage_gets_its_own_copy_there(
    remote, finished, contributor, user_client, settings
):
    from django.db import transaction

    from resolwe_prefect.data.duplication import duplicate_data
    from resolwe_prefect.entities.duplication import DuplicateError

    name, server, _bucket = remote
    run_manager()
    run_cleanup()
    assert _locations(finished) == {name: "OK"}

    (copy_id,) = duplicate_data([finished.pk], contributor.pk)
    duplicate = Data.objects.get(pk=copy_id)
    assert _locations(duplicate) == {name: "OK"}
    original_storage, copy_storage = FileStorage.objects.get(data=finished), FileStorage.objects.get(data=duplicate)
    assert original_storage != copy_storage
    assert sorted(copy_storage.files.values_list("path", "md5")) == sorted(
        original_storage.files.values_list("path", "md5")
    )
    response = user_client.get(f"/data/{copy_id}/reads.fq")
    if response.status_code == 302:
        assert requests.get(response["Location"], timeout=30).content == CONTENT
    else:
        assert response.status_code == 200 and b"".join(response.streaming_content) == CONTENT

    reachable = settings.STORAGE_CONNECTORS[name]
    settings.STORAGE_CONNECTORS = {**settings.STORAGE_CONNECTORS,
                                   name: {**reachable, "config": {**server.unreachable_config(), "priority": 10}}}  # fmt: skip
    count = Data.objects.count()
    with pytest.raises(DuplicateError, match=f"Could not copy the files of Data {finished.pk}"), transaction.atomic():
        duplicate_data([finished.pk], contributor.pk)
    assert Data.objects.count() == count, "no copy without its files"


def test_the_cleanup_forgets_readings_that_ended_long_ago(remote, finished):
    from datetime import timedelta

    from resolwe_prefect.storage.manager import ACCESS_LOG_DAYS
    from resolwe_prefect.storage.models import AccessLog

    location = StorageLocation.objects.get(file_storage__data=finished)
    old = AccessLog.objects.create(
        storage_location=location, reason="old", finished=timezone.now() - timedelta(days=ACCESS_LOG_DAYS + 1)
    )
    recent = AccessLog.objects.create(storage_location=location, reason="recent", finished=timezone.now())
    still_open = AccessLog.objects.create(storage_location=location, reason="open")
    run_cleanup()
    assert set(AccessLog.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
    assert not AccessLog.objects.filter(pk=old.pk).exists()
