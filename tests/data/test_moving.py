"""``POST /api/data/move_to_collection``: the collection, its permissions and tags follow the move."""

from __future__ import annotations

import pytest

from resolwe_prefect.data.models import Data
from resolwe_prefect.tasks.models import TaskStatus

from .conftest import task_of

pytestmark = pytest.mark.django_db


def test_move_data(user_client, make_collection, make_finished, run):
    """As Resolwe's ``Data.move_to_collection``: the destination's tags replace the object's."""
    source, destination = make_collection(name="Src", tags=["src"]), make_collection(name="Dst", tags=["dst", "x"])
    data = make_finished(collection=source, tags=["src", "own"])
    body = {"ids": [data.pk], "destination_collection": destination.pk}
    with run():
        response = user_client.post("/api/data/move_to_collection", body, format="json")
    assert task_of(response).status == TaskStatus.DONE
    data = Data.objects.get(pk=data.pk)
    assert data.collection_id == destination.pk and data.permission_group_id == destination.permission_group_id
    assert data.tags == ["dst", "x"]


def test_data_in_an_entity_moves_only_with_it(user_client, make_collection, make_entity, make_finished):
    source, destination = make_collection(name="Src"), make_collection(name="Dst")
    data = make_finished(collection=source, entity=make_entity(collection=source))
    body = {"ids": [data.pk], "destination_collection": destination.pk}
    response = user_client.post("/api/data/move_to_collection", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "If Data is in entity, you can only move it to another collection by moving entire entity."
    }
    assert Data.objects.get(pk=data.pk).collection_id == source.pk
