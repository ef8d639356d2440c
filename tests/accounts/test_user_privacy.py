"""``/api/user`` shows other users' e-mail to staff only (issue 14, finding 9).

Resolwe shows another user as its contributor (id, user name, names); an
e-mail is personal. Sharing by e-mail must keep working, and everyone still
sees their own e-mail (resdk reads it after login).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", "bob@lab.org", "pw", first_name="Bob")


def by_name(response) -> dict:
    return {entry["username"]: entry for entry in response.json()}


def test_ordinary_users_see_only_their_own_email(user_client, bob, admin):
    users = by_name(user_client.get("/api/user"))
    assert users["contributor"]["email"] == "contributor@example.com"
    assert "email" not in users["bob"] and "email" not in users["admin"]
    assert users["bob"] == {"id": bob.pk, "username": "bob", "first_name": "Bob", "last_name": ""}
    assert "email" not in user_client.get(f"/api/user/{bob.pk}").json()
    (me,) = user_client.get("/api/user?current_only=True").json()
    assert me["email"] == "contributor@example.com"


def test_staff_see_every_email(admin_client, bob):
    assert by_name(admin_client.get("/api/user"))["bob"]["email"] == "bob@lab.org"


def test_email_cannot_be_spelled_out_with_a_substring_filter(user_client, bob):
    assert user_client.get("/api/user?email__icontains=lab.org").json() == []
    assert [u["username"] for u in user_client.get("/api/user?email__icontains=example").json()] == ["contributor"]


def test_sharing_by_email_still_works(user_client, make_collection, bob):
    collection = make_collection()
    response = user_client.post(
        f"/api/collection/{collection.pk}/permissions", {"users": {"bob@lab.org": "view"}}, format="json"
    )
    assert response.status_code == 200, response.content
    bob_client = APIClient()
    bob_client.force_authenticate(bob)
    assert bob_client.get(f"/api/collection/{collection.pk}").status_code == 200
