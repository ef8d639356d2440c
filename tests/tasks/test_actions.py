"""The background actions' request bodies, the same on every viewset that has them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["data", "entity", "collection"])
def test_bulk_delete_bad_input_is_400(user_client, model):
    response = user_client.post(f"/api/{model}/bulk_delete", {"ids": "1,2"}, format="json")
    assert response.status_code == 400 and response.json() == {"ids": ['Expected a list of items but got type "str".']}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"ids": ["This field is required."]}),
        ({"ids": 5}, {"ids": ['Expected a list of items but got type "int".']}),
        ({"ids": []}, {"ids": ["This list may not be empty."]}),
        ({"ids": ["x"]}, {"ids": {"0": ["A valid integer is required."]}}),
    ],
)
@pytest.mark.parametrize("model", ["data", "entity", "sample", "collection"])
def test_duplicate_bad_input_is_400(user_client, model, body, expected):
    response = user_client.post(f"/api/{model}/duplicate", body, format="json")
    assert response.status_code == 400
    assert response.json() == expected
