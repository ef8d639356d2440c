"""Cross-cutting conventions: pagination, projection, strict parameters, errors, datetimes."""

from __future__ import annotations

import re

import pytest

from resolwe_prefect.api.projection import apply_projection, parse_fields

pytestmark = pytest.mark.django_db

DATETIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def test_bare_list_without_limit_and_envelope_with_it(admin_client, make_data):
    for index in range(3):
        make_data(name=f"d{index}")
    response = admin_client.get("/api/data")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.json(), list) and len(response.json()) == 3

    page = admin_client.get("/api/data?limit=1&offset=1&ordering=id").json()
    assert page["count"] == 3
    assert len(page["results"]) == 1
    assert page["next"] and page["previous"]


def test_unknown_parameter_is_400(admin_client):
    response = admin_client.get("/api/data?foo=1")
    assert response.status_code == 400
    message = response.json()["__all__"][0]
    assert message.startswith("Unsupported parameter(s): foo. Please use a combination of: ")
    assert "id__gt" in message


def test_always_allowed_parameters(admin_client, make_data):
    make_data()
    response = admin_client.get("/api/data?fields=id&format=json&limit=5&offset=0&ordering=id")
    assert response.status_code == 200


def test_projection_descends_into_nested_and_json(admin_client, make_data, entity):
    make_data(entity=entity, collection=entity.collection, output={"out": "x", "other": 1})
    body = admin_client.get("/api/data?fields=id,entity__name,output__out,process__slug").json()
    assert body == [
        {"id": body[0]["id"], "entity": {"name": "Sample one"}, "output": {"out": "x"}, "process": {"slug": "test-min"}}
    ]


def test_projection_whole_key_wins():
    tree = parse_fields("entity__name,entity")
    assert apply_projection({"entity": {"name": "a", "id": 1}, "x": 1}, tree) == {"entity": {"name": "a", "id": 1}}


def test_projection_on_paginated_and_detail(admin_client, make_data):
    data = make_data()
    page = admin_client.get("/api/data?fields=id,status&limit=1").json()
    assert page["results"] == [{"id": data.pk, "status": "RE"}]
    assert admin_client.get(f"/api/data/{data.pk}?fields=name").json() == {"name": "Data"}


def test_datetimes_have_microseconds_and_offset(admin_client, make_data):
    data = make_data()
    body = admin_client.get(f"/api/data/{data.pk}").json()
    assert DATETIME_RE.match(body["created"]), body["created"]
    assert DATETIME_RE.match(body["process"]["created"])
    assert body["started"] is None


def test_bad_ordering_is_400(admin_client):
    response = admin_client.get("/api/data?ordering=nonsense")
    assert response.status_code == 400
    assert response.json() == {"error": "Ordering by field 'nonsense' is not supported."}


def test_text_with_ordering_is_400(admin_client):
    assert admin_client.get("/api/data?text=x&ordering=id").status_code == 400


def test_text_search(admin_client, make_data):
    make_data(name="alpha reads")
    make_data(name="beta")
    assert [d["name"] for d in admin_client.get("/api/data?text=alpha").json()] == ["alpha reads"]


def test_integrity_error_is_409(admin_client, process):
    body = {"name": "Again", "slug": process.slug, "version": "1.0.0", "type": "data:test:"}
    response = admin_client.post("/api/process", body, format="json")
    assert response.status_code == 409
    assert "error" in response.json()


def test_api_root_and_schema(admin_client, anon_client):
    assert anon_client.get("/api/").status_code == 200
    schema = admin_client.get("/api/schema")
    assert schema.status_code == 200
    assert b"/api/data" in schema.content
    docs = admin_client.get("/api/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_resdk_version_and_upload_config(anon_client):
    assert "minimal_supported_version" in anon_client.get("/api/resdk_minimal_supported_version").json()
    assert anon_client.get("/api/upload_config").json() == {"type": "LOCAL", "config": {}}
    assert anon_client.get("/api/upload/config").json() == {"type": "LOCAL", "config": {}}


def test_anonymous_sees_nothing_and_cannot_write(anon_client, make_data):
    make_data()
    assert anon_client.get("/api/data").json() == []
    response = anon_client.post("/api/collection", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}
