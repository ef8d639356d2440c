"""A relation's permissions are its collection's (contract §4): VIEW to see, EDIT to write."""

from __future__ import annotations

import pytest

from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.relations.models import Relation

pytestmark = pytest.mark.django_db


def _payload(collection, samples) -> dict:
    return {"type": "group", "collection": {"id": collection.pk}, "category": "Reps",
            "partitions": [{"entity": s.pk} for s in samples]}  # fmt: skip


def test_anonymous_cannot_create(anon_client, collection, samples):
    """Session authentication sends no ``WWW-Authenticate``, so DRF answers 403, as everywhere in the API."""
    response = anon_client.post("/api/relation", _payload(collection, samples), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert not Relation.objects.exists()


def test_create_needs_edit_on_the_collection(viewer_client, stranger_client, collection, samples):
    response = viewer_client.post("/api/relation", _payload(collection, samples), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": f"You do not have edit permission on collection {collection.pk}."}
    response = stranger_client.post("/api/relation", _payload(collection, samples), format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert not Relation.objects.exists()


def test_visibility_follows_the_collection(
    viewer_client, stranger_client, anon_client, stranger, collection, samples, make_relation
):
    relation = make_relation(collection, "reps", [(samples[0], None, None)])
    url = f"/api/relation/{relation.pk}"
    assert [r["id"] for r in viewer_client.get("/api/relation").json()] == [relation.pk]
    assert viewer_client.get(url).status_code == 200
    assert stranger_client.get("/api/relation").json() == []
    assert stranger_client.get(url).status_code == 404
    assert anon_client.get("/api/relation").json() == []
    permissions.set_permission(collection, permissions.PUBLIC, Permission.VIEW)
    assert [r["id"] for r in anon_client.get("/api/relation").json()] == [relation.pk]
    assert [r["id"] for r in stranger_client.get(f"/api/relation?id={relation.pk}").json()] == [relation.pk]
    permissions.set_permission(collection, permissions.PUBLIC, Permission.NONE)
    permissions.set_permission(collection, stranger, Permission.VIEW)
    assert stranger_client.get(url).status_code == 200


def test_update_and_delete_need_edit(viewer_client, stranger_client, user_client, collection, samples, make_relation):
    relation = make_relation(collection, "reps", [(samples[0], None, None)])
    url = f"/api/relation/{relation.pk}"
    assert viewer_client.patch(url, {"category": "x"}, format="json").status_code == 403
    assert viewer_client.delete(url).status_code == 403
    assert stranger_client.patch(url, {"category": "x"}, format="json").status_code == 404
    assert stranger_client.delete(url).status_code == 404
    relation.refresh_from_db()
    assert relation.category == "reps"
    assert user_client.patch(url, {"category": "x"}, format="json").json()["category"] == "x"
    assert user_client.delete(url).status_code == 204


def test_moving_to_another_collection_needs_edit_there(
    user_client, contributor, admin, collection, samples, make_relation
):
    from resolwe_prefect.entities.models import Collection

    other = Collection.objects.create(name="Elsewhere", contributor=admin)
    permissions.on_created(other)
    relation = make_relation(collection, "reps", [(samples[0], None, None)])
    response = user_client.patch(f"/api/relation/{relation.pk}", {"collection": {"id": other.pk}}, format="json")
    assert response.status_code == 404
    permissions.set_permission(other, contributor, Permission.VIEW)
    response = user_client.patch(f"/api/relation/{relation.pk}", {"collection": {"id": other.pk}}, format="json")
    assert response.status_code == 403
    relation.refresh_from_db()
    assert relation.collection_id == collection.pk
