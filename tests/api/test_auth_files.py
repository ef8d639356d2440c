"""Login, users, uploads and the ``/data/<id>/<path>`` browser."""

from __future__ import annotations

import hashlib

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from resolwe_prefect.uploads.storage import InvalidHandle, upload_path

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/saml-auth/api-login/", "/rest-auth/login/"])
@pytest.mark.parametrize("identifier", ["contributor", "contributor@example.com"])
def test_login_sets_both_cookies(contributor, path, identifier):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(path, {"email": identifier, "password": "pw"})
    assert response.status_code == 200
    assert {"sessionid", "csrftoken"} <= set(response.cookies)
    me = client.get("/api/user?current_only=True").json()
    assert [u["username"] for u in me] == ["contributor"]


def test_login_json_body_and_failure(contributor):
    client = APIClient()
    assert (
        client.post("/rest-auth/login/", {"username": "contributor", "password": "pw"}, format="json").status_code
        == 200
    )
    assert APIClient().post("/rest-auth/login/", {"email": "contributor", "password": "no"}).status_code == 400


def test_session_requests_need_csrf_header(contributor):
    client = APIClient(enforce_csrf_checks=True)
    client.post("/saml-auth/api-login/", {"email": "contributor", "password": "pw"})
    token = client.cookies["csrftoken"].value
    assert client.post("/api/collection", {"name": "x"}, format="json").status_code == 403
    response = client.post("/api/collection", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_users_and_groups(user_client, admin, anon_client):
    assert anon_client.get("/api/user?current_only=True").json() == []
    assert [u["username"] for u in user_client.get("/api/user?username=admin&limit=1").json()["results"]] == ["admin"]
    assert "password" not in user_client.get("/api/user").json()[0]
    assert user_client.get("/api/group?name=lab").json() == []


def _chunk(client, content: bytes, number: int, size: int, total: int):
    return client.post(
        "/upload/",
        {
            "file": SimpleUploadedFile("reads.fq", content),
            "_chunkNumber": number,
            "_chunkSize": size,
            "_totalSize": total,
            "_currentChunkSize": len(content),
        },
        format="multipart",
        HTTP_SESSION_ID="session-1",
        HTTP_X_FILE_UID="file-1",
    )


def test_chunked_upload(user_client):
    payload = b"0123456789" * 3
    responses = [_chunk(user_client, payload[i : i + 8], i // 8, 8, len(payload)) for i in range(0, len(payload), 8)]
    assert all(r.status_code == 200 for r in responses)
    handle = responses[-1].json()["files"][0]["temp"]
    assert upload_path(handle).read_bytes() == payload


def test_upload_needs_login(anon_client):
    assert _chunk(anon_client, b"x", 0, 8, 1).status_code == 403


@pytest.mark.parametrize("handle", ["../etc/passwd", "/abs", "a/b", "..", "", "x" * 300])
def test_upload_path_rejects_traversal(handle):
    with pytest.raises(InvalidHandle):
        upload_path(handle)


@pytest.fixture
def stored(make_data):
    data = make_data()
    root = settings.FLOW_EXECUTOR["DATA_DIR"] / str(data.pk)
    (root / "sub").mkdir(parents=True, exist_ok=True)
    (root / "stdout.txt").write_bytes(b"hello\n")
    (root / "sub" / "a.txt").write_bytes(b"aaa")
    return data


def test_browse_listing_and_download(admin_client, stored):
    listing = admin_client.get(f"/data/{stored.pk}").json()
    by_name = {entry["name"]: entry for entry in listing}
    assert by_name["sub"]["type"] == "directory"
    assert by_name["stdout.txt"] == {
        **by_name["stdout.txt"],
        "type": "file",
        "size": 6,
        "md5": hashlib.md5(b"hello\n").hexdigest(),
    }
    assert [e["name"] for e in admin_client.get(f"/data/{stored.pk}/sub/").json()] == ["a.txt"]
    assert [e["name"] for e in admin_client.get(f"/data/{stored.pk}/sub").json()] == ["a.txt"]
    response = admin_client.get(f"/data/{stored.pk}/stdout.txt")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"hello\n"
    forced = admin_client.get(f"/data/{stored.pk}/stdout.txt?force_download=1")
    assert "attachment" in forced["Content-Disposition"]


def test_browse_refuses_traversal_and_anonymous(admin_client, anon_client, stored):
    assert admin_client.get(f"/data/{stored.pk}/../../etc/passwd").status_code in (403, 404)
    assert admin_client.get(f"/data/{stored.pk}/sub/..%2F..%2Fx").status_code in (403, 404)
    assert anon_client.get(f"/data/{stored.pk}/stdout.txt").status_code == 403
    assert admin_client.get("/data/999999/stdout.txt").status_code == 403
    assert admin_client.get(f"/data/{stored.pk}/missing.txt").status_code == 404
