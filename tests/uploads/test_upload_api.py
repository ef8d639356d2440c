"""``/upload/`` attacked with chunks that lie about where they belong (issue 14, finding 7).

Before the fix the server wrote every chunk at ``_chunkNumber * _chunkSize``
and declared the upload complete once the file was at least ``_totalSize``
long: negative numbers gave 500s, chunks could overlap or leave zeros, a
10-byte chunk made a 100 GB sparse file, and nothing recorded who uploaded.
"""

from __future__ import annotations

import pytest

from resolwe_prefect.uploads.models import Upload
from resolwe_prefect.uploads.storage import PARTIAL_SUFFIX, make_handle, upload_path

from .conftest import send_chunk

pytestmark = pytest.mark.django_db

PAYLOAD = b"0123456789abcdef" + b"ghij"  # 20 bytes: chunks of 8, 8 and 4


def handle_of(response) -> str:
    return response.json()["files"][0]["temp"]


def upload_all(client, payload=PAYLOAD, size=8, **kwargs):
    responses = [send_chunk(client, payload[i:i + size], i // size, size, len(payload), **kwargs)
                 for i in range(0, len(payload), size)]  # fmt: skip
    assert [r.status_code for r in responses] == [200] * len(responses), responses[-1].content
    return handle_of(responses[-1])


def test_in_order_upload_completes_and_records_its_owner(user_client, contributor):
    handle = upload_all(user_client)
    assert upload_path(handle).read_bytes() == PAYLOAD
    record = Upload.objects.get(handle=handle)
    assert (record.owner, record.size, record.total_size) == (contributor, 20, 20)
    assert record.completed is not None


@pytest.mark.parametrize("number", [-1, "-5", "1.5", "abc"])
def test_bad_chunk_numbers_are_400_naming_the_field(user_client, number):
    response = send_chunk(user_client, b"x" * 8, number, 8, 20)
    assert response.status_code == 400
    assert "_chunkNumber" in response.json()


@pytest.mark.parametrize(
    "number, size, total",
    [(10**30, 8, 20), (2**63, 2**63, 2**64), (0, -8, 20), (0, 8, -20), (0, 0, 20)],
)
def test_overflowing_or_negative_fields_are_4xx_not_500(user_client, number, size, total):
    response = send_chunk(user_client, b"x" * 8, number, size, total)
    assert 400 <= response.status_code < 500
    assert set(response.json()) & {"_chunkNumber", "_chunkSize", "_totalSize", "file"}


def test_a_chunk_far_past_the_end_does_not_make_a_sparse_file(user_client, contributor):
    hundred_gb = 100 * 10**9
    response = send_chunk(user_client, b"x" * 10, hundred_gb // 10 - 1, 10, hundred_gb)
    assert response.status_code == 400 and "_chunkNumber" in response.json()
    assert not Upload.objects.exists()
    handle = make_handle(contributor.pk, "s-1", "f-1")
    assert not upload_path(handle).exists()
    assert not upload_path(handle).with_name(handle + PARTIAL_SUFFIX).exists()


def test_out_of_order_chunks_are_refused_and_nothing_completes_early(user_client):
    """Chunks 1, 2, 0 completed the upload with zeros in place of chunk 0."""
    first = send_chunk(user_client, PAYLOAD[8:16], 1, 8, 20)
    assert first.status_code == 400 and "expects chunk 0" in first.json()["_chunkNumber"][0]
    assert send_chunk(user_client, PAYLOAD[:8], 0, 8, 20).status_code == 200
    skipped = send_chunk(user_client, PAYLOAD[16:], 2, 8, 20)
    assert skipped.status_code == 400 and "expects chunk 1" in skipped.json()["_chunkNumber"][0]
    handle = Upload.objects.get().handle
    assert not upload_path(handle).exists()
    assert Upload.objects.get().completed is None


def test_overlapping_and_rewritten_chunks_are_refused(user_client):
    handle = handle_of(send_chunk(user_client, PAYLOAD[:8], 0, 8, 20))
    overlapping = send_chunk(user_client, b"X" * 4, 1, 4, 20)  # bytes 4..8, already written
    assert overlapping.status_code == 400
    different = send_chunk(user_client, b"Y" * 8, 0, 8, 20)  # chunk 0 again, other bytes
    assert different.status_code == 400
    partial = upload_path(handle).with_name(handle + PARTIAL_SUFFIX)
    assert partial.read_bytes() == PAYLOAD[:8]


def test_a_retried_chunk_is_accepted_without_writing_twice(user_client):
    """resdk resends a chunk that got no 2xx, even if the server had stored it."""
    assert send_chunk(user_client, PAYLOAD[:8], 0, 8, 20).status_code == 200
    assert send_chunk(user_client, PAYLOAD[:8], 0, 8, 20).status_code == 200
    upload_all(user_client)  # the rest, and chunk 0 once more at the start
    last = send_chunk(user_client, PAYLOAD[16:], 2, 8, 20)  # the last chunk again, after completion
    assert last.status_code == 200
    assert upload_path(handle_of(last)).read_bytes() == PAYLOAD


def test_current_chunk_size_and_total_size_must_agree(user_client):
    lying = send_chunk(user_client, PAYLOAD[:8], 0, 8, 20, current=3)
    assert lying.status_code == 400 and "_currentChunkSize" in lying.json()
    assert send_chunk(user_client, PAYLOAD[:8], 0, 8, 20).status_code == 200
    changed = send_chunk(user_client, PAYLOAD[8:16], 1, 8, 24)
    assert changed.status_code == 400 and "_totalSize" in changed.json()


def test_total_size_limit(user_client, settings):
    settings.FLOW_UPLOAD_MAX_SIZE = 16
    response = send_chunk(user_client, PAYLOAD[:8], 0, 8, 20)
    assert response.status_code == 413 and "_totalSize" in response.json()


def test_missing_file_part_names_the_field(user_client):
    response = user_client.post("/upload/", {"_chunkNumber": 0}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


def test_same_session_headers_give_each_user_their_own_upload(user_client, mallory_client, contributor, mallory):
    """The handle is derived from the uploader, so another user cannot append to it."""
    mine = handle_of(send_chunk(user_client, PAYLOAD[:8], 0, 8, 20))
    theirs = handle_of(send_chunk(mallory_client, b"M" * 8, 0, 8, 20))
    assert mine != theirs
    assert {(u.handle, u.owner) for u in Upload.objects.all()} == {(mine, contributor), (theirs, mallory)}


@pytest.fixture
def upload_process(admin, monkeypatch):
    """A public process with one ``basic:file:`` input; processing is not requested."""
    from resolwe_prefect.data import lifecycle
    from resolwe_prefect.permissions import services as permissions
    from resolwe_prefect.permissions.models import Permission
    from resolwe_prefect.processes.models import Process

    monkeypatch.setattr(lifecycle, "request_processing", lambda ids: None)
    process = Process.objects.create(
        slug="upload-file", name="File", version="1.0.0", type="data:file:", contributor=admin,
        input_schema=[{"name": "src", "label": "File", "type": "basic:file:"}], run={"language": "bash", "program": "true"},
    )  # fmt: skip
    permissions.set_permission(process, permissions.PUBLIC, Permission.VIEW)
    return process


@pytest.mark.parametrize("file_temp", ["http://127.0.0.1:4200/api/flow_runs/filter", "http://2130706433:8000/api/user"])
def test_internal_urls_are_refused_at_creation(user_client, upload_process, file_temp):
    """The pentest: upload-file fetched the Prefect API and our own API and stored the answers."""
    body = {"process": {"slug": "upload-file"}, "input": {"src": {"file": "x", "file_temp": file_temp}}}
    response = user_client.post("/api/data", body, format="json")
    assert response.status_code == 400 and "loopback" in response.json()["input.src"][0]
