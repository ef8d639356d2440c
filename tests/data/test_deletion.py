"""``DELETE /api/data/<id>`` and ``POST /api/<x>/bulk_delete``: 200 + task, rows, storages and files removed."""

from __future__ import annotations

import pytest

from resolwe_prefect.data.models import Data, DataDependency, Storage
from resolwe_prefect.entities.models import Collection
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.tasks.models import TaskStatus

from .conftest import task_of

pytestmark = pytest.mark.django_db


def test_delete_data_removes_row_storage_and_directory(user_client, make_finished, run, data_root):
    data = make_finished()
    child = make_finished(input={"src": data.pk})
    DataDependency.objects.create(parent=data, child=child, kind=DataDependency.KIND_IO)
    storage_id = data.output["table"]
    with run():
        response = user_client.delete(f"/api/data/{data.pk}")
    assert response.json()["status"] == "WT"
    task = task_of(response)
    assert (task.status, task.output) == (TaskStatus.DONE, "Task completed.")
    assert task.description == f"Delete data objects with ids {data.pk}."
    assert not Data.objects.filter(pk=data.pk).exists()
    assert not Storage.objects.filter(pk=storage_id).exists()
    assert not (data_root / str(data.pk)).exists()
    assert (data_root / str(child.pk) / "out.txt").exists()  # only the deleted object's files go
    assert DataDependency.objects.get(child=child).parent_id is None
    assert user_client.get(f"/api/task/{task.pk}").json()["output"] == "Task completed."


def test_nothing_is_deleted_before_the_commit(
    user_client, make_finished, django_capture_on_commit_callbacks, data_root
):
    data = make_finished()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.delete(f"/api/data/{data.pk}")
    assert response.status_code == 200 and len(callbacks) == 1
    assert Data.objects.filter(pk=data.pk).exists() and (data_root / str(data.pk)).exists()


def test_delete_needs_edit(bob_client, anon_client, bob, make_finished):
    data = make_finished()
    assert bob_client.delete(f"/api/data/{data.pk}").status_code == 404
    permissions.set_permission(data, bob, Permission.VIEW)
    assert bob_client.delete(f"/api/data/{data.pk}").status_code == 403
    permissions.set_permission(data, permissions.PUBLIC, Permission.VIEW)
    response = anon_client.delete(f"/api/data/{data.pk}")
    assert response.status_code == 403 and response.json() == {
        "detail": "Authentication credentials were not provided."
    }
    assert Data.objects.filter(pk=data.pk).exists()


def test_bulk_delete(user_client, bob_client, bob, make_finished, make_collection, run, data_root):
    first, second, keep = make_finished(), make_finished(), make_finished()
    with run():
        response = user_client.post("/api/data/bulk_delete", {"ids": [first.pk, second.pk]}, format="json")
    assert (task_of(response).status, task_of(response).output) == (TaskStatus.DONE, "Task completed.")
    assert list(Data.objects.values_list("pk", flat=True)) == [keep.pk]
    assert sorted(p.name for p in data_root.iterdir()) == [str(keep.pk)]

    collection = make_collection()
    permissions.set_permission(collection, bob, Permission.VIEW)
    response = bob_client.post("/api/collection/bulk_delete", {"ids": [collection.pk]}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": f"No permission to delete objects with ids {collection.pk}."}
    response = bob_client.post("/api/data/bulk_delete", {"ids": [keep.pk]}, format="json")
    assert response.status_code == 403 and response.json() == {"detail": f"Objects with ids {keep.pk} not found."}
    assert Collection.objects.filter(pk=collection.pk).exists() and Data.objects.filter(pk=keep.pk).exists()
