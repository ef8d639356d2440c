"""Actors and objects for the relation tests, made the way the API makes them.

``admin`` owns the collection; ``contributor`` (``user_client``) may edit it,
``viewer`` may only view it and ``stranger`` cannot see it at all.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.processes.models import Process
from resolwe_prefect.relations.models import Relation, RelationPartition, RelationType


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def viewer(db):
    return get_user_model().objects.create_user("viewer", "viewer@example.com", "pw")


@pytest.fixture
def stranger(db):
    return get_user_model().objects.create_user("stranger", "stranger@example.com", "pw")


@pytest.fixture
def viewer_client(viewer) -> APIClient:
    return _client(viewer)


@pytest.fixture
def stranger_client(stranger) -> APIClient:
    return _client(stranger)


@pytest.fixture
def collection(admin, contributor, viewer) -> Collection:
    collection = Collection.objects.create(name="Time course", contributor=admin, tags=["lab:one", "rna"])
    permissions.on_created(collection)
    permissions.set_permission(collection, contributor, Permission.EDIT)
    permissions.set_permission(collection, viewer, Permission.VIEW)
    return collection


@pytest.fixture
def make_entity(admin):
    def make(name: str, collection: Collection | None = None) -> Entity:
        entity = Entity.objects.create(name=name, contributor=admin, collection=collection)
        permissions.on_created(entity)
        return entity

    return make


@pytest.fixture
def samples(collection, make_entity) -> list[Entity]:
    """Three samples of ``collection``."""
    return [make_entity(f"Sample {index}", collection) for index in range(3)]


@pytest.fixture
def make_relation(admin):
    """A relation straight through the ORM: ``partitions`` are ``(entity, label, position)`` triples."""

    def make(collection: Collection, category: str, partitions: list[tuple], type_name: str = "group") -> Relation:
        relation = Relation.objects.create(
            collection=collection, category=category, type=RelationType.objects.get(name=type_name), contributor=admin
        )
        for entity, label, position in partitions:
            RelationPartition.objects.create(relation=relation, entity=entity, label=label, position=position)
        return relation

    return make


@pytest.fixture
def process(admin) -> Process:
    """Used by the shared ``make_data`` fixture."""
    return Process.objects.create(
        slug="test-relations", name="Test relations", version="1.0.0", type="data:test:", contributor=admin,
        input_schema=[], output_schema=[], run={"language": "bash", "program": "true"},
    )  # fmt: skip
