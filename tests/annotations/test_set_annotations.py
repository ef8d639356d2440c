"""``POST /api/sample/<id>/set_annotations``: resdk's ``sample.set_annotations({...})``."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from resolwe_prefect.annotations.models import AnnotationValue
from resolwe_prefect.permissions import services as permissions
from resolwe_prefect.permissions.models import Permission


def stored(entity) -> dict:
    rows = AnnotationValue.objects.filter(entity=entity).select_related("field__group")
    return {str(row.field): row.value for row in rows}


@pytest.mark.parametrize("prefix", ["sample", "entity"])
def test_sets_and_deletes_by_path(user_client, entity, fields, prefix):
    url = f"/api/{prefix}/{entity.pk}/set_annotations"
    body = [{"field_path": "general.species", "value": "hs"}, {"field_path": "general.age", "value": 42}]
    response = user_client.post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert stored(entity) == {"general.species": "hs", "general.age": 42}

    response = user_client.post(url, [{"field_path": "general.age", "value": None}], format="json")
    assert response.status_code == 200
    assert stored(entity) == {"general.species": "hs"}
    assert entity.collection.annotation_fields.filter(pk=fields["general.species"].pk).exists()


def test_all_or_nothing(user_client, entity, fields):
    body = [
        {"field_path": "general.age", "value": 7},
        {"field_path": "general.nope", "value": 1},
        {"field_path": "biospecimen.code", "value": "lowercase"},
    ]
    response = user_client.post(f"/api/sample/{entity.pk}/set_annotations", body, format="json")
    assert response.status_code == 400
    errors = response.json()["error"]
    assert "Field 'general.nope' does not exist." in errors and len(errors) == 2
    assert stored(entity) == {}


def test_malformed_body_is_400(user_client, entity, fields):
    response = user_client.post(f"/api/sample/{entity.pk}/set_annotations", {"general.age": 1}, format="json")
    assert response.status_code == 400


def test_view_only_is_403_and_invisible_is_404(entity, fields):
    viewer = get_user_model().objects.create_user("viewer", "viewer@example.com", "pw")
    stranger = get_user_model().objects.create_user("stranger", "stranger@example.com", "pw")
    permissions.set_permission(entity.collection, viewer, Permission.VIEW)
    body = [{"field_path": "general.age", "value": 1}]
    for user, code in ((viewer, 403), (stranger, 404)):
        client = APIClient()
        client.force_authenticate(user)
        assert client.post(f"/api/sample/{entity.pk}/set_annotations", body, format="json").status_code == code
    assert APIClient().post(f"/api/sample/{entity.pk}/set_annotations", body, format="json").status_code == 403
    assert stored(entity) == {}
