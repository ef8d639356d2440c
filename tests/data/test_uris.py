"""``POST /resolve_uris/`` and the signed, cookie-less downloads it hands out (resdk.tables)."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from resolwe_prefect.data import uris
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission

from .conftest import make_process


@pytest.fixture
def process(admin):
    return make_process(admin, "uris")


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": tmp_path}
    return tmp_path


@pytest.fixture
def stored(make_data, data_dir):
    """Data owned by admin with ``out/table.tsv``; nobody else can see it yet."""
    data = make_data()
    permissions.on_created(data)
    (data_dir / str(data.pk) / "out").mkdir(parents=True)
    (data_dir / str(data.pk) / "out" / "table.tsv").write_bytes(b"gene\tvalue\nA\t1\n")
    return data


def resolve(client: APIClient, *uri_list: str) -> dict:
    response = client.post("/resolve_uris/", {"uris": list(uri_list)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_resolves_to_a_signed_url_that_needs_no_session(admin_client, stored):
    uri = f"{stored.pk}/out/table.tsv"
    url = resolve(admin_client, uri)[uri]
    assert url.startswith(f"/signed-data/{stored.pk}/out/table.tsv?signature=")
    response = APIClient().get(url)  # no cookies, as aiohttp in resdk.tables
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"gene\tvalue\nA\t1\n"


def test_unresolvable_uris_map_to_empty(admin_client, stored):
    bad = [f"{stored.pk}/missing.txt", f"{stored.pk}/out", f"{stored.pk}/../x", "999999/a.txt", "junk", ""]
    assert resolve(admin_client, *bad) == dict.fromkeys(bad, "")


def test_only_viewers_get_urls(user_client, anon_client, contributor, stored):
    uri = f"{stored.pk}/out/table.tsv"
    assert resolve(user_client, uri) == {uri: ""}
    assert resolve(anon_client, uri) == {uri: ""}
    permissions.set_permission(stored, contributor, Permission.VIEW)
    assert resolve(user_client, uri)[uri]
    permissions.set_permission(stored, permissions.PUBLIC, Permission.VIEW)
    assert resolve(anon_client, uri)[uri]


def test_csrf_exempt(contributor, stored):
    permissions.set_permission(stored, contributor, Permission.VIEW)
    client = APIClient(enforce_csrf_checks=True)
    client.post("/saml-auth/api-login/", {"email": "contributor", "password": "pw"})
    response = client.post("/resolve_uris/", {"uris": [f"{stored.pk}/out/table.tsv"]}, format="json")
    assert response.status_code == 200 and response.json()[f"{stored.pk}/out/table.tsv"]


def test_malformed_body_is_400(admin_client):
    assert admin_client.post("/resolve_uris/", {"uri": "1/a"}, format="json").status_code == 400


def test_signature_is_bound_to_the_file(stored, data_dir):
    (data_dir / str(stored.pk) / "out" / "other.tsv").write_bytes(b"secret")
    signature = uris.sign(stored.pk, "out/table.tsv")
    client = APIClient()
    assert client.get(f"/signed-data/{stored.pk}/out/other.tsv", {"signature": signature}).status_code == 403
    assert client.get(f"/signed-data/{stored.pk}/out/table.tsv", {"signature": signature + "x"}).status_code == 403
    assert client.get(f"/signed-data/{stored.pk}/out/table.tsv").status_code == 403
    assert client.get(f"/signed-data/{stored.pk}/out/table.tsv", {"signature": signature}).status_code == 200


def test_signature_expires(settings, stored, monkeypatch):
    signature = uris.sign(stored.pk, "out/table.tsv")
    settings.RESOLWE_PREFECT_SIGNED_URL_MAX_AGE = 60
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 120)
    assert not uris.verify(stored.pk, "out/table.tsv", signature)
    response = APIClient().get(f"/signed-data/{stored.pk}/out/table.tsv", {"signature": signature})
    assert response.status_code == 403


def test_signed_traversal_is_refused(stored, data_dir):
    (data_dir / "secret.txt").write_bytes(b"x")
    signature = uris.sign(stored.pk, "../secret.txt")  # even a (forged-by-us) signature cannot escape
    response = APIClient().get(f"/signed-data/{stored.pk}/../secret.txt", {"signature": signature})
    assert response.status_code in (403, 404)


def test_url_outlives_a_revoked_grant_until_it_expires(stored, contributor):
    """Documented trade-off of presigned URLs (as in Resolwe's S3 connector): valid until they expire."""
    permissions.set_permission(stored, contributor, Permission.VIEW)
    client = APIClient()
    client.force_authenticate(contributor)
    url = resolve(client, f"{stored.pk}/out/table.tsv")[f"{stored.pk}/out/table.tsv"]
    permissions.set_permission(stored, contributor, Permission.NONE)
    assert APIClient().get(url).status_code == 200
