"""``/api/user`` (PATCH self), ``/api/group/<id>/add_users|remove_users`` and ``ensure_group``."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

User = get_user_model()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def other(db):
    return User.objects.create_user("other", "other@example.com", "pw")


@pytest.fixture
def group(db):
    return Group.objects.create(name="lab")


# --- users ------------------------------------------------------------------------------


def test_patch_self(user_client, contributor):
    response = user_client.patch(
        f"/api/user/{contributor.pk}", {"first_name": "Con", "email": "c@lab.org"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": contributor.pk, "username": "contributor", "email": "c@lab.org", "first_name": "Con", "last_name": "",
    }  # fmt: skip
    contributor.refresh_from_db()
    assert (contributor.first_name, contributor.email) == ("Con", "c@lab.org")


def test_username_and_flags_cannot_change(user_client, contributor):
    response = user_client.patch(
        f"/api/user/{contributor.pk}", {"username": "root", "is_superuser": True}, format="json"
    )
    assert response.status_code == 204  # nothing writable: Resolwe's rule
    contributor.refresh_from_db()
    assert contributor.username == "contributor" and not contributor.is_superuser


def test_patch_another_user_is_403_staff_may(user_client, admin_client, other):
    assert user_client.patch(f"/api/user/{other.pk}", {"first_name": "X"}, format="json").status_code == 403
    assert admin_client.patch(f"/api/user/{other.pk}", {"first_name": "X"}, format="json").status_code == 200
    other.refresh_from_db()
    assert other.first_name == "X"


def test_email_must_stay_unique(user_client, contributor, other):
    response = user_client.patch(f"/api/user/{contributor.pk}", {"email": "OTHER@example.com"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()


def test_email_cannot_be_another_users_name(user_client, contributor):
    User.objects.create_user("carol@lab.org", "carol@home.org", "pw")
    response = user_client.patch(f"/api/user/{contributor.pk}", {"email": "Carol@lab.org"}, format="json")
    assert response.status_code == 400


def test_no_put_or_delete(user_client, contributor):
    assert user_client.put(f"/api/user/{contributor.pk}", {"first_name": "A"}, format="json").status_code == 405
    assert user_client.delete(f"/api/user/{contributor.pk}").status_code == 405


def test_anonymous_cannot_patch(anon_client, contributor):
    assert anon_client.patch(f"/api/user/{contributor.pk}", {"first_name": "A"}, format="json").status_code in (
        403,
        404,
    )


def test_user_payload_has_no_secrets(user_client, contributor):
    (entry,) = user_client.get("/api/user", {"current_only": "True"}).json()
    assert set(entry) == {"id", "username", "email", "first_name", "last_name"}


# --- groups -----------------------------------------------------------------------------


def test_staff_adds_and_removes_members(admin_client, group, contributor, other):
    url = f"/api/group/{group.pk}"
    response = admin_client.post(f"{url}/add_users", {"user_ids": [contributor.pk, other.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"id": group.pk, "name": "lab"}
    assert set(group.user_set.all()) == {contributor, other}
    assert {u["username"] for u in admin_client.get("/api/user", {"groups": group.pk}).json()} == {
        "contributor",
        "other",
    }

    assert admin_client.post(f"{url}/remove_users", {"user_ids": [other.pk]}, format="json").status_code == 200
    assert list(group.user_set.all()) == [contributor]


def test_members_manage_their_group(user_client, group, contributor, other):
    body = {"user_ids": [other.pk]}
    assert user_client.post(f"/api/group/{group.pk}/add_users", body, format="json").status_code == 403
    group.user_set.add(contributor)
    assert user_client.post(f"/api/group/{group.pk}/add_users", body, format="json").status_code == 200
    assert other.groups.filter(pk=group.pk).exists()
    # a removed member loses the right, even over their own membership
    client_for(other).post(f"/api/group/{group.pk}/remove_users", {"user_ids": [contributor.pk]}, format="json")
    assert user_client.post(f"/api/group/{group.pk}/remove_users", body, format="json").status_code == 403


def test_unknown_users_are_400_and_change_nothing(admin_client, group, contributor):
    response = admin_client.post(
        f"/api/group/{group.pk}/add_users", {"user_ids": [contributor.pk, 999999]}, format="json"
    )
    assert response.status_code == 400
    assert "999999" in str(response.json())
    assert not group.user_set.exists()


def test_public_user_cannot_join(admin_client, group):
    from resolwe_prefect.permissions.services import get_public_user

    public = get_public_user()
    response = admin_client.post(f"/api/group/{group.pk}/add_users", {"user_ids": [public.pk]}, format="json")
    assert response.status_code == 400
    assert not group.user_set.exists()


@pytest.mark.parametrize("body", [{}, {"user_ids": "1"}, {"user_ids": ["x"]}])
def test_malformed_body_is_400(admin_client, group, body):
    assert admin_client.post(f"/api/group/{group.pk}/add_users", body, format="json").status_code == 400


def test_anonymous_and_unknown_group(anon_client, admin_client, group):
    assert anon_client.post(f"/api/group/{group.pk}/add_users", {"user_ids": []}, format="json").status_code == 403
    assert admin_client.post("/api/group/999999/add_users", {"user_ids": []}, format="json").status_code == 404


# --- ensure_group -----------------------------------------------------------------------


def test_ensure_group_is_idempotent(contributor, other):
    call_command("ensure_group", "lab", "--users", "contributor")
    call_command("ensure_group", "lab", "--users", "other")
    call_command("ensure_group", "lab")
    assert set(Group.objects.get(name="lab").user_set.all()) == {contributor, other}


def test_ensure_group_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("ensure_group", "lab", "--users", "nobody")
