"""Actors and objects for the permission tests; objects are created the way the API creates them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from resolwe_prefect.data import services as data_services
from resolwe_prefect.entities.models import Collection
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.processes.models import Process


@pytest.fixture(autouse=True)
def no_processing(monkeypatch):
    """Creating Data must not reach Prefect."""
    monkeypatch.setattr(data_services.lifecycle, "request_processing", lambda ids: None)


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", "bob@example.com", "pw", first_name="Bob", last_name="B")


@pytest.fixture
def bob_client(bob) -> APIClient:
    client = APIClient()
    client.force_authenticate(bob)
    return client


@pytest.fixture
def lab(bob) -> Group:
    group = Group.objects.create(name="lab")
    bob.groups.add(group)
    return group


@pytest.fixture
def process(admin) -> Process:
    """A public process, as ``up`` publishes the built-in ones."""
    process = Process.objects.create(
        slug="perm-proc", name="Perm proc", version="1.0.0", type="data:perm:", contributor=admin,
        input_schema=[{"name": "value", "label": "Value", "type": "basic:integer:", "default": 1}],
        output_schema=[], run={"language": "bash", "program": "true"},
    )  # fmt: skip
    permissions.on_created(process)
    permissions.set_permission(process, permissions.PUBLIC, Permission.VIEW)
    return process


@pytest.fixture
def owned_collection(contributor) -> Collection:
    """A collection ``contributor`` owns, created as the API does."""
    collection = Collection.objects.create(name="Mine", contributor=contributor)
    permissions.on_created(collection)
    return collection


@pytest.fixture
def make_data(contributor, process):
    def make(user=None, **kwargs):
        return data_services.create_data(user=user or contributor, process_ref={"slug": process.slug}, **kwargs)

    return make
