"""Shared test fixtures: the actors the REST API and services are exercised as.

The database choice lives in ``tests/settings.py``.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient


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
def make_data(admin, process):
    """Create Data straight through the ORM, bypassing the creation service.

    ``process`` is the fixture of the test's own folder.
    """

    def make(**kwargs):
        kwargs.setdefault("name", "Data")
        kwargs.setdefault("contributor", admin)
        kwargs.setdefault("process", process)
        from resolwe_prefect.data.models import Data

        return Data.objects.create(**kwargs)

    return make


@pytest.fixture
def make_collection(contributor):
    """A top-level collection, placed in a permission group as the API places it (owner: its contributor)."""

    def make(user=None, **kwargs):
        from resolwe_prefect.entities.models import Collection
        from resolwe_prefect.permissions import services as permissions

        collection = Collection.objects.create(
            name=kwargs.pop("name", "Col"), contributor=user or contributor, **kwargs
        )
        permissions.on_created(collection)
        return collection

    return make


@pytest.fixture
def make_entity(contributor):
    """An entity (inside ``collection=`` when given), placed in a permission group as the API places it."""

    def make(user=None, **kwargs):
        from resolwe_prefect.entities.models import Entity
        from resolwe_prefect.permissions import services as permissions

        entity = Entity.objects.create(name=kwargs.pop("name", "Sample"), contributor=user or contributor, **kwargs)
        permissions.on_created(entity)
        return entity

    return make
