"""Fixtures for the REST API tests: the runner's actors and a few objects made through the ORM."""

from __future__ import annotations

import pytest

from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.processes.models import Process


@pytest.fixture
def process(admin) -> Process:
    return Process.objects.create(
        slug="test-min",
        name="Test minimal",
        version="1.0.0",
        type="data:test:min:",
        category="Tests:",
        contributor=admin,
        input_schema=[{"name": "value", "label": "Value", "type": "basic:integer:", "default": 1}],
        output_schema=[{"name": "out", "label": "Out", "type": "basic:string:"}],
        run={"language": "bash", "program": "echo hi"},
    )


@pytest.fixture
def schema(admin) -> DescriptorSchema:
    return DescriptorSchema.objects.create(
        slug="sample-info",
        name="Sample info",
        version="1.0.0",
        contributor=admin,
        schema=[{"name": "description", "label": "Description", "type": "basic:string:"}],
    )


@pytest.fixture
def collection(admin) -> Collection:
    return Collection.objects.create(name="Collection one", contributor=admin)


@pytest.fixture
def entity(admin, collection) -> Entity:
    return Entity.objects.create(name="Sample one", contributor=admin, collection=collection)
