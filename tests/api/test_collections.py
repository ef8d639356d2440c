"""``/api/collection``, ``/api/entity`` and ``/api/sample``."""

from __future__ import annotations

import pytest

from resolwe_prefect.entities.models import Collection, Entity

pytestmark = pytest.mark.django_db


def test_create_collection(user_client, contributor, schema):
    response = user_client.post(
        "/api/collection",
        {"name": "My collection", "tags": ["a"], "descriptor_schema": {"slug": "sample-info"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "my-collection"
    assert body["contributor"]["username"] == "contributor"
    assert body["data_count"] == 0 and body["entity_count"] == 0 and body["status"] is None
    assert body["descriptor_schema"]["slug"] == "sample-info"
    assert body["current_user_permissions"][0]["permissions"] == ["view", "edit", "share", "owner"]


def test_invalid_and_taken_slug(admin_client, collection):
    response = admin_client.post("/api/collection", {"name": "x", "slug": "not valid!"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The value not valid! is not a valid slug."}
    response = admin_client.post("/api/collection", {"name": "x", "slug": collection.slug}, format="json")
    assert response.status_code == 400
    assert "already taken" in response.json()["detail"]


def test_slug_clash_gets_suffix_and_long_name_truncated(admin_client):
    first = admin_client.post("/api/collection", {"name": "Same"}, format="json").json()
    second = admin_client.post("/api/collection", {"name": "Same"}, format="json").json()
    assert (first["slug"], second["slug"]) == ("same", "same-2")
    long = admin_client.post("/api/collection", {"name": "n" * 150}, format="json").json()
    assert long["name"] == "n" * 97 + "..."


def test_counts_and_status(admin_client, collection, entity, make_data):
    make_data(collection=collection, entity=entity, status="OK")
    make_data(collection=collection, status="ER")
    body = admin_client.get(f"/api/collection/{collection.pk}").json()
    assert (body["data_count"], body["entity_count"], body["status"]) == (2, 1, "ER")
    assert [c["id"] for c in admin_client.get("/api/collection?status=ER").json()] == [collection.pk]
    sample = admin_client.get(f"/api/sample/{entity.pk}").json()
    assert (sample["data_count"], sample["status"]) == (1, "OK")
    assert sample["collection"]["id"] == collection.pk and sample["collection"]["data_count"] == 2


def test_patch_and_noop_patch(admin_client, collection):
    response = admin_client.patch(f"/api/collection/{collection.pk}", {"description": "new"}, format="json")
    assert response.status_code == 200 and response.json()["description"] == "new"
    response = admin_client.patch(f"/api/collection/{collection.pk}", {"id": 5, "created": "x"}, format="json")
    assert response.status_code == 204


def test_delete_collection(admin_client, collection, settings, django_capture_on_commit_callbacks):
    settings.RESOLWE_PREFECT_TASKS_SYNC = True  # run the background delete inline when the request commits
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/collection/{collection.pk}")
    assert response.status_code == 200 and response.json()["status"] == "WT"  # Resolwe: 200 + BackgroundTask
    assert admin_client.get(f"/api/task/{response.json()['id']}").json()["status"] == "OK"
    assert not Collection.objects.exists()


def test_sample_alias_create_and_filter(admin_client, collection):
    response = admin_client.post("/api/sample", {"name": "S1", "collection": {"id": collection.pk}}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["collection"]["id"] == collection.pk
    assert len(admin_client.get(f"/api/sample?collection={collection.pk}").json()) == 1
    assert len(admin_client.get(f"/api/entity?collection={collection.pk}").json()) == 1
    assert admin_client.get("/api/entity?collection__isnull=True").json() == []


def test_moving_entity_moves_its_data(admin_client, entity, make_data, admin):
    data = make_data(entity=entity, collection=entity.collection)
    other = Collection.objects.create(name="Other", contributor=admin)
    response = admin_client.patch(f"/api/entity/{entity.pk}", {"collection": {"id": other.pk}}, format="json")
    assert response.status_code == 200
    data.refresh_from_db()
    assert data.collection_id == other.pk
    response = admin_client.patch(f"/api/entity/{entity.pk}", {"collection": None}, format="json")
    assert response.status_code == 400
    assert Entity.objects.get(pk=entity.pk).collection_id == other.pk
