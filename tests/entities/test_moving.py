"""``POST /api/<entity|sample|data>/move_to_collection``: entities take their Data; who may move what, where."""

from __future__ import annotations

import pytest

from resolwe_prefect.annotations.models import AnnotationField, AnnotationGroup
from resolwe_prefect.data.models import Data
from resolwe_prefect.entities.models import Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.tasks.models import TaskStatus

from .conftest import task_of

pytestmark = pytest.mark.django_db


def test_move_entities_with_their_data(user_client, bob, make_collection, make_entity, make_finished, run):
    source, destination = make_collection(name="Src"), make_collection(name="Dst", tags=["lab:x"])
    permissions.set_permission(destination, bob, Permission.VIEW)
    group = AnnotationGroup.objects.create(name="general", label="General", sort_order=1)
    field = AnnotationField.objects.create(name="species", label="Species", type="STRING", group=group, sort_order=1)
    field.collections.add(source)
    entity = make_entity(collection=source)
    data = make_finished(collection=source, entity=entity)
    body = {"ids": [entity.pk], "destination_collection": destination.pk}
    with run():
        response = user_client.post("/api/sample/move_to_collection", body, format="json")
    task = task_of(response)
    assert (task.status, task.output) == (TaskStatus.DONE, "Task completed.")
    entity, data = Entity.objects.get(pk=entity.pk), Data.objects.get(pk=data.pk)
    assert entity.collection_id == destination.pk and data.collection_id == destination.pk
    assert entity.tags == ["lab:x"] and data.tags == ["lab:x"]
    assert entity.permission_group_id == data.permission_group_id == destination.permission_group_id
    assert permissions.user_level(bob, data) == Permission.VIEW  # the destination's permissions now apply
    assert list(destination.annotation_fields.all()) == [field]


def test_move_permissions(bob_client, bob, anon_client, make_collection, make_entity):
    mine, theirs = make_collection(name="Mine"), make_collection(name="Theirs", user=bob)
    entity = make_entity(collection=mine)
    body = {"ids": [entity.pk], "destination_collection": theirs.pk}
    response = bob_client.post("/api/entity/move_to_collection", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": f"Entities with the following ids not found: {entity.pk}"}
    permissions.set_permission(mine, bob, Permission.VIEW)
    response = bob_client.post("/api/entity/move_to_collection", body, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": f"No permission to move objects with ids {entity.pk}."}
    # Destination: unknown or invisible is a 400 on the field, visible without EDIT a 403.
    back = {"ids": [entity.pk], "destination_collection": mine.pk}
    permissions.set_permission(mine, bob, Permission.EDIT)
    permissions.set_permission(theirs, bob, Permission.VIEW)  # bob keeps only VIEW on his own collection
    response = bob_client.post("/api/entity/move_to_collection", body, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": f"You do not have edit permission on destination_collection {theirs.pk}."}
    response = bob_client.post(
        "/api/entity/move_to_collection", {**back, "destination_collection": 999999}, format="json"
    )
    assert response.status_code == 400 and response.json() == {
        "destination_collection": ["Collection id does not exist"]
    }
    response = anon_client.post("/api/entity/move_to_collection", back, format="json")
    assert response.status_code == 403
    assert Entity.objects.get(pk=entity.pk).collection_id == mine.pk


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"ids": [1]}, {"destination_collection": ["This field is required."]}),
        ({"ids": [1], "destination_collection": "x"}, {"destination_collection": ["A valid integer is required."]}),
        ({"destination_collection": 1}, {"ids": ["This field is required."]}),
    ],
)
def test_move_bad_input_is_400(user_client, body, expected):
    response = user_client.post("/api/data/move_to_collection", body, format="json")
    assert response.status_code == 400 and response.json() == expected


def test_collections_cannot_be_moved(user_client):
    assert (
        user_client.post("/api/collection/move_to_collection", {}, format="json").status_code == 405
    )  # the detail route
