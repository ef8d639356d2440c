"""``/api/data`` and ``/api/storage``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resolwe_prefect.data.models import Data, DataDependency, Storage
from resolwe_prefect.entities.models import Collection, Entity

pytestmark = pytest.mark.django_db

DATA_FIELDS = [
    "id", "slug", "name", "status", "input", "output", "process", "process_error", "process_warning",
    "process_info", "process_rc", "process_progress", "process_resources", "process_cores", "process_memory",
    "checksum", "descriptor", "descriptor_dirty", "descriptor_schema", "tags", "collection", "entity", "started",
    "finished", "created", "modified", "scheduled", "size", "contributor", "flow_run_id",
    "current_user_permissions",
]  # fmt: skip


def test_data_fields(admin_client, make_data, entity):
    data = make_data(collection=entity.collection, entity=entity)
    body = admin_client.get(f"/api/data/{data.pk}").json()
    assert set(DATA_FIELDS) <= set(body)
    assert {"slug", "version", "type", "input_schema", "output_schema"} <= set(body["process"])
    assert body["collection"]["id"] == entity.collection_id and body["collection"]["data_count"] == 1
    assert body["entity"]["id"] == entity.pk and body["entity"]["collection"] == entity.collection_id
    assert isinstance(body["process_progress"], int)


def test_filters(admin_client, make_data, entity, process):
    first = make_data(name="one", status="OK", tags=["a", "b"])
    second = make_data(name="two", status="ER", entity=entity, collection=entity.collection)
    ids = lambda query: sorted(d["id"] for d in admin_client.get(f"/api/data?{query}").json())  # noqa: E731
    assert ids(f"id={first.pk}") == [first.pk]
    assert ids(f"id__in={first.pk},{second.pk}") == [first.pk, second.pk]
    assert ids(f"id__gt={first.pk}") == [second.pk]
    assert ids("status=OK") == [first.pk]
    assert ids("status__in=OK,ER") == [first.pk, second.pk]
    assert ids(f"process={process.pk}") == [first.pk, second.pk]
    assert ids("process__slug=test-min&type=data:test") == [first.pk, second.pk]
    assert ids("type=data:other") == []
    assert ids(f"collection={entity.collection_id}") == [second.pk]
    assert ids(f"entity={entity.pk}") == [second.pk]
    assert ids("entity__isnull=False") == [second.pk]
    assert ids("entity__isnull=True") == [first.pk]
    assert ids("tags=a,b") == [first.pk]
    assert ids("tags=a,c") == []
    assert ids("name__icontains=ON") == [first.pk]
    assert ids(f"slug={second.slug}") == [second.pk]
    assert ids("created__gt=2000-01-01T00:00:00Z") == [first.pk, second.pk]


def test_default_ordering_is_newest_first(admin_client, make_data):
    first, second = make_data(name="a"), make_data(name="b")
    assert [d["id"] for d in admin_client.get("/api/data").json()] == [second.pk, first.pk]
    assert [d["id"] for d in admin_client.get("/api/data?ordering=id").json()] == [first.pk, second.pk]


def test_list_query_count_does_not_grow(admin_client, make_data, admin):
    collection = Collection.objects.create(name="C", contributor=admin)
    for index in range(50):
        entity = Entity.objects.create(name=f"e{index}", contributor=admin, collection=collection)
        make_data(name=f"d{index}", collection=collection, entity=entity)
    counts = []
    for limit in (5, 50):
        with CaptureQueriesContext(connection) as context:
            assert len(admin_client.get(f"/api/data?limit={limit}").json()["results"]) == limit
        counts.append(len(context))
    assert counts[0] == counts[1], counts
    with CaptureQueriesContext(connection) as small:
        admin_client.get("/api/sample?limit=5")
    with CaptureQueriesContext(connection) as large:
        admin_client.get("/api/sample?limit=50")
    assert len(small) == len(large)


def test_patch_name_and_protected_fields(admin_client, make_data, process):
    data = make_data(input={"value": 1})
    response = admin_client.patch(f"/api/data/{data.pk}", {"name": "Renamed", "input": {"value": 5}}, format="json")
    assert response.status_code == 200
    data.refresh_from_db()
    assert (data.name, data.input, data.named_by_user) == ("Renamed", {"value": 1}, True)
    assert admin_client.patch(f"/api/data/{data.pk}", {"input": {}, "status": "OK"}, format="json").status_code == 204


def test_patch_process_resources_validated(admin_client, make_data):
    data = make_data()
    response = admin_client.patch(f"/api/data/{data.pk}", {"process_resources": {"gpu": 1}}, format="json")
    assert response.status_code == 400
    ok = admin_client.patch(f"/api/data/{data.pk}", {"process_resources": {"cores": 2}}, format="json")
    assert ok.json()["process_resources"] == {"cores": 2}


def test_container_rules(admin_client, make_data, admin, collection):
    orphan_entity = Entity.objects.create(name="E", contributor=admin)
    data = make_data(entity=orphan_entity)
    response = admin_client.patch(f"/api/data/{data.pk}", {"collection": {"id": collection.pk}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Entity must belong to the same collection as data object."}

    inside = make_data(
        collection=collection, entity=Entity.objects.create(name="I", contributor=admin, collection=collection)
    )
    for body in ({"entity": None}, {"collection": None}):
        response = admin_client.patch(f"/api/data/{inside.pk}", body, format="json")
        assert response.json() == {"error": "Data object can not be removed from the container."}

        assert response.status_code == 400
    entity = Entity.objects.create(name="In C", contributor=admin, collection=collection)
    loose = make_data()
    response = admin_client.patch(f"/api/data/{loose.pk}", {"entity": {"id": entity.pk}}, format="json")
    assert response.status_code == 200
    assert (response.json()["entity"]["id"], response.json()["collection"]["id"]) == (entity.pk, collection.pk)


def test_parents_and_children(admin_client, make_data):
    parent, child = make_data(name="p"), make_data(name="c")
    DataDependency.objects.create(parent=parent, child=child, kind=DataDependency.KIND_IO)
    assert admin_client.get(f"/api/data/{child.pk}/parents?fields=id").json() == [{"id": parent.pk}]
    assert admin_client.get(f"/api/data/{parent.pk}/children?fields=id").json() == [{"id": child.pk}]
    assert admin_client.get(f"/api/data/{parent.pk}/children?limit=1").json()["count"] == 1


def test_restart_permissions(anon_client, user_client, make_data):
    data = make_data(status="ER")
    response = anon_client.post(f"/api/data/{data.pk}/restart", {}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": "Authentication credentials were not provided."})
    response = user_client.post(f"/api/data/{data.pk}/restart", {}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": "Only staff users are allowed."})


def test_restart(admin_client, make_data, monkeypatch):
    services = pytest.importorskip("resolwe_prefect.data.services")
    monkeypatch.setattr(services.lifecycle, "request_processing", lambda ids: None, raising=False)
    ok = make_data(status="OK")
    response = admin_client.post(f"/api/data/{ok.pk}/restart", {}, format="json")
    assert response.status_code == 400
    assert "Only data in status ER can be restarted, not OK." in response.content.decode()
    failed = make_data(status="ER")
    overrides = {"resource_overrides": {str(failed.pk): {"memory": 1024}}}
    response = admin_client.post(f"/api/data/{failed.pk}/restart", overrides, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "RE" and response.json()["process_resources"] == {"memory": 1024}


def worker_faster_than_the_response(data_ids: list[int]) -> bool:
    """A notifier standing in for the embedded worker at its quickest: it queues the objects the moment they commit."""
    Data.objects.filter(pk__in=data_ids).update(status="WT")
    return True


@pytest.mark.django_db(transaction=True)
def test_create_and_restart_answer_with_the_object_as_the_request_left_it(admin_client, process, settings):
    """POST answers RE, as Resolwe does, even when the worker has moved the object on before the answer is sent."""
    from resolwe_prefect.data import lifecycle
    from tests.data.conftest import record_submission

    previous = lifecycle.registered()
    lifecycle.register(record_submission, worker_faster_than_the_response)
    try:
        response = admin_client.post("/api/data", {"process": {"slug": process.slug}, "input": {}}, format="json")
        assert response.status_code == 201, response.json()
        created = response.json()
        assert created["status"] == "RE"
        assert Data.objects.get(pk=created["id"]).status == "WT"  # the worker did get it, after the answer

        Data.objects.filter(pk=created["id"]).update(status="ER")
        response = admin_client.post(f"/api/data/{created['id']}/restart", {}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "RE", response.json()
        assert Data.objects.get(pk=created["id"]).status == "WT"
    finally:
        lifecycle.register(*previous)


def test_delete(admin_client, make_data, settings, django_capture_on_commit_callbacks):
    settings.RESOLWE_PREFECT_TASKS_SYNC = True  # run the background delete inline when the request commits
    data = make_data()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/data/{data.pk}")
    assert response.status_code == 200 and response.json()["status"] == "WT"  # Resolwe: 200 + BackgroundTask
    assert admin_client.get(f"/api/task/{response.json()['id']}").json()["output"] == "Task completed."
    assert not Data.objects.filter(pk=data.pk).exists()


def test_storage(admin_client, make_data, admin):
    data = make_data()
    storage = Storage.objects.create(name="s", contributor=admin, json={"genes": ["a"], "n": 1})
    storage.data.add(data)
    body = admin_client.get(f"/api/storage/{storage.pk}").json()
    assert body["json"] == {"genes": ["a"], "n": 1} and body["data"] == [data.pk]
    assert admin_client.get(f"/api/storage/{storage.pk}?fields=json__genes").json() == {"json": {"genes": ["a"]}}
    assert admin_client.get("/api/storage").status_code in (404, 405)


def test_descriptor_dirty_and_invalid(admin_client, make_data, schema):
    data = make_data(descriptor_schema=schema)
    url = f"/api/data/{data.pk}"
    assert (
        admin_client.patch(url, {"descriptor": {"description": "x"}}, format="json").json()["descriptor_dirty"] is False
    )
    assert admin_client.patch(url, {"descriptor": {}}, format="json").json()["descriptor_dirty"] is True
    response = admin_client.patch(url, {"descriptor": {"description": 42}}, format="json")
    assert response.status_code == 400 and "descriptor" in response.json()
