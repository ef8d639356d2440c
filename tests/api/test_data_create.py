"""``POST /api/data`` and ``get_or_create`` through ``data.services`` (skipped until it imports)."""

from __future__ import annotations

import pytest

from resolwe_prefect.processes.models import Process

pytestmark = pytest.mark.django_db


@pytest.fixture
def services(monkeypatch):
    services = pytest.importorskip("resolwe_prefect.data.services")
    try:
        import resolwe_prefect.schema.fields  # noqa: F401  (the validator the service needs)
    except ImportError:
        pytest.skip("resolwe_prefect.schema.fields is not written yet")
    monkeypatch.setattr(services.lifecycle, "request_processing", lambda ids: None, raising=False)
    return services


def test_create(admin_client, services, process, collection):
    body = {
        "process": {"slug": "test-min"},
        "input": {"value": 3},
        "name": "Mine",
        "tags": ["t"],
        "collection": {"id": collection.pk},
    }
    response = admin_client.post("/api/data", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "Mine" and created["status"] == "RE"
    assert created["collection"]["id"] == collection.pk and created["process"]["slug"] == "test-min"


def test_create_errors_are_400(admin_client, services, process):
    response = admin_client.post("/api/data", {"input": {}}, format="json")
    assert response.status_code == 400
    response = admin_client.post(
        "/api/data", {"process": {"slug": "test-min"}, "process_resources": {"gpu": 1}}, format="json"
    )
    assert response.status_code == 400
    process.is_active = False
    process.save()
    response = admin_client.post("/api/data", {"process": {"slug": "test-min"}}, format="json")
    assert response.status_code == 400 and "not active" in response.content.decode()


def test_anonymous_cannot_create(anon_client, process):
    assert anon_client.post("/api/data", {"process": {"slug": "test-min"}}, format="json").status_code == 403


def test_get_or_create(admin_client, services, process):
    process.persistence = Process.PERSISTENCE_CACHED
    process.save()
    body = {"process": {"slug": "test-min"}, "input": {"value": 7}}
    first = admin_client.post("/api/data/get_or_create", body, format="json")
    assert first.status_code == 201, first.content
    again = admin_client.post("/api/data/get_or_create", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
