"""``POST /api/<entity|sample|collection>/duplicate``: copies of the containers with copies of their contents."""

from __future__ import annotations

import pytest

from resolwe_prefect.annotations.models import AnnotationField, AnnotationGroup, AnnotationValue
from resolwe_prefect.data.models import DataDependency
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.tasks.models import TaskStatus

from .conftest import task_of

pytestmark = pytest.mark.django_db


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
