"""Fixtures for the annotations tests: users, clients, an entity and the conformance fields."""

from __future__ import annotations

import pytest

from resolwe_prefect.annotations import services
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.processes.models import Process

FIELD_SPECS = [
    {"group": "general", "group_sort_order": 1, "name": "species", "sort_order": 1, "type": "STRING",
     "vocabulary": {"Valid": "Valid", "hs": "Homo sapiens"}},
    {"group": "general", "group_sort_order": 1, "name": "description", "sort_order": 2, "type": "STRING"},
    {"group": "general", "group_sort_order": 1, "name": "age", "sort_order": 3, "type": "INTEGER"},
    {"group": "biospecimen", "group_sort_order": 2, "name": "weight", "sort_order": 1, "type": "DECIMAL"},
    {"group": "biospecimen", "group_sort_order": 2, "name": "collected", "sort_order": 2, "type": "DATE"},
    {"group": "biospecimen", "group_sort_order": 2, "name": "code", "sort_order": 3, "type": "STRING",
     "validator_regex": "^[A-Z]{2}$"},
]  # fmt: skip


@pytest.fixture
def fields(db) -> dict:
    """``{"group.field": AnnotationField}`` for FIELD_SPECS."""
    return {str(field): field for field in services.define_fields(FIELD_SPECS)}


@pytest.fixture
def collection(admin, contributor) -> Collection:
    """Owned by admin; the ``contributor`` user (``user_client``) may edit it."""
    collection = Collection.objects.create(name="Collection one", contributor=admin)
    permissions.on_created(collection)
    permissions.set_permission(collection, contributor, Permission.EDIT)
    return collection


@pytest.fixture
def entity(admin, collection) -> Entity:
    entity = Entity.objects.create(name="Sample one", contributor=admin, collection=collection)
    permissions.on_created(entity)
    return entity


@pytest.fixture
def other_entity(admin, contributor) -> Entity:
    entity = Entity.objects.create(name="Sample two", contributor=admin)
    permissions.on_created(entity)
    permissions.set_permission(entity, contributor, Permission.EDIT)
    return entity


@pytest.fixture
def process(admin) -> Process:
    return Process.objects.create(
        slug="test-annotate", name="Test annotate", version="1.0.0", type="data:test:", contributor=admin,
        input_schema=[], output_schema=[], run={"language": "bash", "program": "true"},
    )  # fmt: skip
