"""``GET /api/<collection|entity|sample|data>/slug_exists?name=``."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["collection", "entity", "sample", "data"])
def test_slug_exists(model, user_client, bob_client, anon_client, make_collection, make_entity, make_finished):
    obj = {"collection": make_collection, "entity": make_entity, "sample": make_entity, "data": make_finished}[model]()
    assert user_client.get(f"/api/{model}/slug_exists?name={obj.slug}").json() is True
    assert user_client.get(f"/api/{model}/slug_exists?name={obj.slug.upper()}").json() is True
    assert user_client.get(f"/api/{model}/slug_exists?name=no-such-slug").json() is False
    assert bob_client.get(f"/api/{model}/slug_exists?name={obj.slug}").json() is False  # not visible to bob
    assert anon_client.get(f"/api/{model}/slug_exists?name={obj.slug}").status_code == 401
    response = user_client.get(f"/api/{model}/slug_exists")
    assert response.status_code == 400 and response.json() == {"name": ["This field is required."]}


def test_schema_documents_the_task_actions(admin_client):
    response = admin_client.get("/api/schema?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/task", "/api/task/{id}", "/api/data/duplicate", "/api/data/bulk_delete", "/api/data/move_to_collection",
        "/api/collection/duplicate", "/api/entity/move_to_collection", "/api/sample/slug_exists",
    ):  # fmt: skip
        assert path in paths, path
    delete = paths["/api/data/{id}"]["delete"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert delete == {"$ref": "#/components/schemas/BackgroundTask"}
