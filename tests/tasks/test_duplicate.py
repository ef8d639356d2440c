"""``POST /api/<data|entity|sample|collection>/duplicate``: copies with their files, storages and dependencies."""

from __future__ import annotations

import pytest

from resolwe_prefect.annotations.models import AnnotationField, AnnotationGroup, AnnotationValue
from resolwe_prefect.data.models import Data, DataDependency, DataStatus, Storage
from resolwe_prefect.entities.models import Collection, Entity
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


def test_duplicate_entity_with_data_and_annotations(
    user_client, contributor, make_collection, make_entity, make_finished, run, data_root
):
    collection = make_collection()
    entity = make_entity(collection=collection)
    data = make_finished(collection=collection, entity=entity)
    group = AnnotationGroup.objects.create(name="general", label="General", sort_order=1)
    field = AnnotationField.objects.create(name="species", label="Species", type="STRING", group=group, sort_order=1)
    AnnotationValue.objects.create(
        entity=entity, field=field, _value={"value": "Mm", "label": "Mm"}, contributor=contributor
    )

    with run():
        response = user_client.post("/api/sample/duplicate", {"ids": [entity.pk]}, format="json")
    task = task_of(response)
    assert task.status == TaskStatus.DONE, task.output
    copy = Entity.objects.get(pk=task.output[0])
    assert copy.name == entity.name and copy.duplicated is not None
    assert copy.collection_id is None  # Resolwe: a duplicate leaves the collection unless asked otherwise
    [data_copy] = copy.data.all()
    assert (
        data_copy.pk != data.pk
        and data_copy.collection_id is None
        and data_copy.permission_group_id == copy.permission_group_id
    )
    assert (data_root / str(data_copy.pk) / "out.txt").read_text() == "hello"
    assert AnnotationValue.objects.get(entity=copy).value == "Mm"
    assert permissions.user_level(contributor, copy) == Permission.OWNER

    with run():
        response = user_client.post(
            "/api/entity/duplicate", {"ids": [entity.pk], "inherit_collection": True}, format="json"
        )
    kept = task_of(response)
    kept_copy = Entity.objects.get(pk=kept.output[0])
    assert kept_copy.collection_id == collection.pk
    assert set(kept_copy.data.values_list("collection_id", flat=True)) == {collection.pk}


def test_duplicate_collection_rewires_inputs_between_copies(
    user_client, contributor, make_collection, make_entity, make_finished, run
):
    collection = make_collection(description="desc", tags=["a"])
    entity = make_entity(collection=collection)
    upstream = make_finished(collection=collection, entity=entity)
    downstream = make_finished(collection=collection, input={"src": upstream.pk})
    DataDependency.objects.create(parent=upstream, child=downstream, kind=DataDependency.KIND_IO)

    with run():
        response = user_client.post("/api/collection/duplicate", {"ids": [collection.pk]}, format="json")
    task = task_of(response)
    assert task.status == TaskStatus.DONE, task.output
    copy = Collection.objects.get(pk=task.output[0])
    assert (copy.name, copy.description, copy.tags) == ("Col", "desc", ["a"]) and copy.duplicated is not None
    [entity_copy] = copy.entities.all()
    assert copy.data.count() == 2
    up_copy = copy.data.get(entity=entity_copy)
    down_copy = copy.data.exclude(pk=up_copy.pk).get()
    assert down_copy.input == {"src": up_copy.pk}  # points to the copy, not the original
    assert DataDependency.objects.filter(parent=up_copy, child=down_copy, kind="io").exists()
    assert permissions.user_level(contributor, copy) == Permission.OWNER
    assert {d.permission_group_id for d in copy.data.all()} == {copy.permission_group_id}
    body = user_client.get(f"/api/collection/{copy.pk}").json()
    assert (body["data_count"], body["entity_count"]) == (2, 1)


def test_duplicate_refusals(user_client, bob_client, anon_client, make_finished):
    data = make_finished()
    response = bob_client.post("/api/data/duplicate", {"ids": [data.pk, 999999]}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": f"Objects with ids {data.pk}, 999999 not found."}
    response = anon_client.post("/api/data/duplicate", {"ids": [data.pk]}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"ids": ["This field is required."]}),
        ({"ids": 5}, {"ids": ['Expected a list of items but got type "int".']}),
        ({"ids": []}, {"ids": ["This list may not be empty."]}),
        ({"ids": ["x"]}, {"ids": {"0": ["A valid integer is required."]}}),
    ],
)
@pytest.mark.parametrize("model", ["data", "entity", "sample", "collection"])
def test_duplicate_bad_input_is_400(user_client, model, body, expected):
    response = user_client.post(f"/api/{model}/duplicate", body, format="json")
    assert response.status_code == 400
    assert response.json() == expected
