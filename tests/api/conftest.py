"""Fixtures for the REST API tests: the runner's actors and a few objects made through the ORM."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from resolwe_prefect.data.models import Data
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.processes.models import Process


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "pw", first_name="Ad")


@pytest.fixture
def contributor(db):
    return get_user_model().objects.create_user("contributor", "contributor@example.com", "pw")


@pytest.fixture
def admin_client(admin) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin)
    return client


@pytest.fixture
def user_client(contributor) -> APIClient:
    client = APIClient()
    client.force_authenticate(contributor)
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


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
def make_data(admin, process):
    """Create Data straight through the ORM, bypassing the creation service."""

    def make(**kwargs) -> Data:
        kwargs.setdefault("name", "Data")
        kwargs.setdefault("contributor", admin)
        kwargs.setdefault("process", process)
        return Data.objects.create(**kwargs)

    return make


@pytest.fixture
def entity(admin, collection) -> Entity:
    return Entity.objects.create(name="Sample one", contributor=admin, collection=collection)
