"""How permission payloads find users: id, then user name, then e-mail."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from resolwe_prefect.permissions.payload import _find_user

User = get_user_model()


def test_username_wins_over_an_email_of_an_older_user(db):
    User.objects.create_user("alice", "carol@lab.org", "pw")
    carol = User.objects.create_user("carol@lab.org", "carol@home.org", "pw")
    assert _find_user("carol@lab.org") == carol
    assert _find_user("CAROL@HOME.ORG") == carol


def test_id_then_username(db):
    first = User.objects.create_user("first", "first@example.com", "pw")
    named = User.objects.create_user(str(first.pk + 1000), "n@example.com", "pw")
    assert _find_user(str(first.pk)) == first
    assert _find_user(named.username) == named
    assert _find_user("nobody") is None
