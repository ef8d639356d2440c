"""``/api/process`` and ``/api/descriptorschema``."""

from __future__ import annotations

import pytest

from resolwe_prefect.processes.models import Process

pytestmark = pytest.mark.django_db


def _versions(admin, *versions):
    for version in versions:
        Process.objects.create(slug="multi", name="Multi", version=version, type="data:multi:", contributor=admin)


def test_get_by_slug_picks_highest_semantic_version(admin_client, admin):
    _versions(admin, "1.9.0", "1.10.0", "1.2.0")
    page = admin_client.get("/api/process?slug=multi&ordering=-version&limit=1").json()
    assert page["count"] == 3
    assert page["results"][0]["version"] == "1.10.0"
    ordered = [p["version"] for p in admin_client.get("/api/process?slug=multi&ordering=version").json()]
    assert ordered == ["1.2.0", "1.9.0", "1.10.0"]


def test_version_filters(admin_client, admin):
    _versions(admin, "1.9.0", "1.10.0")
    assert [p["version"] for p in admin_client.get("/api/process?version__gt=1.9.0").json()] == ["1.10.0"]
    assert admin_client.get("/api/process?version=not-a-version").status_code == 400


def test_type_is_a_prefix_match(admin_client, process):
    assert len(admin_client.get("/api/process?type=data:test").json()) == 1
    assert len(admin_client.get("/api/process?type=data:other").json()) == 0
    assert len(admin_client.get("/api/process?category=Tests&is_active=True").json()) == 1


def test_process_fields(admin_client, process):
    body = admin_client.get(f"/api/process/{process.pk}").json()
    for key in [
        "id",
        "slug",
        "name",
        "version",
        "type",
        "category",
        "is_active",
        "persistence",
        "scheduling_class",
        "data_name",
        "entity_type",
        "entity_input",
        "entity_always_create",
        "requirements",
        "run",
        "input_schema",
        "output_schema",
        "description",
        "contributor",
        "current_user_permissions",
        "created",
        "modified",
    ]:
        assert key in body, key
    assert body["contributor"] == {
        "id": process.contributor_id,
        "username": "admin",
        "first_name": "Ad",
        "last_name": "",
    }


def test_create_superuser_only(admin_client, user_client):
    body = {"name": "Test process", "slug": "cf-api-created", "type": "data:test", "is_active": False}
    assert user_client.post("/api/process", body, format="json").status_code == 404
    response = admin_client.post("/api/process", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["type"] == "data:test:" and created["is_active"] is True and created["version"] == "0.0.0"


def test_process_update_not_allowed(admin_client, process):
    assert admin_client.patch(f"/api/process/{process.pk}", {"name": "x"}, format="json").status_code == 405
    assert admin_client.delete(f"/api/process/{process.pk}").status_code == 405


def test_descriptor_schema_list(admin_client, schema):
    page = admin_client.get("/api/descriptorschema?slug=sample-info&ordering=-version&limit=1").json()
    assert page["results"][0]["schema"][0]["name"] == "description"
    assert admin_client.post("/api/descriptorschema", {"name": "x"}, format="json").status_code == 405
