"""``DELETE /api/<collection|entity|sample>/<id>``: the containers go with their entities, Data and its files."""

from __future__ import annotations

import pytest

from resolwe_prefect.data.models import Data
from resolwe_prefect.entities.deletion import delete_collections
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.tasks.models import TaskStatus

from .conftest import task_of

pytestmark = pytest.mark.django_db


def test_delete_collection_takes_entities_data_and_files(
    user_client, make_collection, make_entity, make_finished, run, data_root
):
    collection = make_collection()
    entity = make_entity(collection=collection)
    in_entity = make_finished(collection=collection, entity=entity)
    loose = make_finished(collection=collection)
    other = make_finished()
    with run():
        response = user_client.delete(f"/api/collection/{collection.pk}")
    assert task_of(response).status == TaskStatus.DONE
    assert not Collection.objects.filter(pk=collection.pk).exists()
    assert not Entity.objects.filter(pk=entity.pk).exists()
    assert not Data.objects.filter(pk__in=[in_entity.pk, loose.pk]).exists()
    assert sorted(p.name for p in data_root.iterdir()) == [str(other.pk)]


@pytest.mark.parametrize("model", ["entity", "sample"])
def test_delete_entity_takes_its_data(user_client, model, make_collection, make_entity, make_finished, run, data_root):
    collection = make_collection()
    entity = make_entity(collection=collection)
    data = make_finished(collection=collection, entity=entity)
    outside = make_finished(collection=collection)
    with run():
        response = user_client.delete(f"/api/{model}/{entity.pk}")
    assert task_of(response).status == TaskStatus.DONE
    assert not Entity.objects.filter(pk=entity.pk).exists() and not Data.objects.filter(pk=data.pk).exists()
    assert Data.objects.filter(pk=outside.pk).exists() and Collection.objects.filter(pk=collection.pk).exists()
    assert not (data_root / str(data.pk)).exists() and (data_root / str(outside.pk)).exists()


def test_the_data_goes_without_the_api_too(
    make_collection, make_entity, make_finished, data_root, django_capture_on_commit_callbacks
):
    """The data app deletes the contents whoever deletes the containers (it listens from ``DataConfig.ready``)."""
    collection = make_collection()
    data = make_finished(collection=collection, entity=make_entity(collection=collection))
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_collections([collection.pk]) == "Task completed."
    assert not Data.objects.filter(pk=data.pk).exists() and not Entity.objects.exists()
    assert not (data_root / str(data.pk)).exists()
