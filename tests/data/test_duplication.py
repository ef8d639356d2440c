"""``POST /api/data/duplicate``: copies with their files, storages and dependencies."""

from __future__ import annotations

import pytest

from resolwe_prefect.data.models import Data, DataDependency, DataStatus, Storage
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.tasks.models import TaskStatus

from .conftest import task_of

pytestmark = pytest.mark.django_db


def test_duplicate_data_copies_row_files_storage_and_dependencies(
    bob_client, bob, contributor, make_finished, run, data_root
):
    source = make_finished(content="upstream")
    data = make_finished(input={"src": source.pk}, process_rc=0)
    DataDependency.objects.create(parent=source, child=data, kind=DataDependency.KIND_IO)
    permissions.set_permission(data, bob, Permission.VIEW)

    with run():
        response = bob_client.post("/api/data/duplicate", {"ids": [data.pk]}, format="json")
    assert response.json()["status"] == "WT"  # the request answers before the work runs
    task = task_of(response)
    assert task.status == TaskStatus.DONE, task.output
    assert isinstance(task.output, list) and len(task.output) == 1
    copy = Data.objects.get(pk=task.output[0])

    assert copy.pk != data.pk and copy.slug != data.slug
    assert (copy.name, copy.process_id, copy.status, copy.input) == (
        data.name,
        data.process_id,
        "OK",
        {"src": source.pk},
    )
    assert copy.contributor == bob and copy.duplicated is not None and data.duplicated is None
    assert copy.created == Data.objects.get(pk=data.pk).created
    # Files: a copy of the whole directory under the new id; the original is untouched.
    assert (data_root / str(copy.pk) / "out.txt").read_text() == (data_root / str(data.pk) / "out.txt").read_text()
    assert (data_root / str(copy.pk) / "sub" / "nested.txt").read_text() == "hellohello"
    assert (data_root / str(data.pk) / "out.txt").exists()
    # Storage: its own row with the same JSON, and the output points to it.
    new_storage = Storage.objects.get(pk=copy.output["table"])
    assert new_storage.pk != data.output["table"] and new_storage.json == {"rows": [1, 2]}
    assert list(new_storage.data.values_list("pk", flat=True)) == [copy.pk]
    assert copy.output["out"] == data.output["out"]
    # Dependencies: the input link is kept, and the copy knows its original.
    links = set(DataDependency.objects.filter(child=copy).values_list("parent_id", "kind"))
    assert links == {(source.pk, "io"), (data.pk, "duplicate")}
    # The caller owns the copy; resdk then loads it with ?id__in=.
    assert permissions.user_level(bob, copy) == Permission.OWNER
    assert [d["id"] for d in bob_client.get(f"/api/data?id__in={copy.pk}").json()] == [copy.pk]
    assert bob_client.get(f"/api/data/{copy.pk}").json()["duplicated"] is not None


def test_duplicating_unfinished_data_ends_in_error(user_client, make_finished, run, data_root):
    data = make_finished(status=DataStatus.PROCESSING)
    before = Data.objects.count()
    with run():
        response = user_client.post("/api/data/duplicate", {"ids": [data.pk]}, format="json")
    task = task_of(response)
    assert task.status == TaskStatus.ERROR
    assert task.output == f"Data object must have done or error status to be duplicated (ids: {data.pk})."
    assert Data.objects.count() == before
    assert sorted(p.name for p in data_root.iterdir()) == [str(data.pk)]  # no stray copied directory


def test_errored_data_can_be_duplicated(user_client, make_finished, run):
    data = make_finished(status=DataStatus.ERROR)
    with run():
        response = user_client.post("/api/data/duplicate", {"ids": [data.pk]}, format="json")
    task = task_of(response)
    assert task.status == TaskStatus.DONE and Data.objects.get(pk=task.output[0]).status == "ER"


def test_duplicate_refusals(user_client, bob_client, anon_client, make_finished):
    data = make_finished()
    response = bob_client.post("/api/data/duplicate", {"ids": [data.pk, 999999]}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": f"Objects with ids {data.pk}, 999999 not found."}
    response = anon_client.post("/api/data/duplicate", {"ids": [data.pk]}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}
