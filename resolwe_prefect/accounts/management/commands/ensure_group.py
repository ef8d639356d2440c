"""``ensure_group``: create a Django group (Resolwe's unit for sharing) and add members to it.

Groups have no REST create endpoint, as on the Genialis platform, so admins
and fixtures make them here; membership is then managed through
``POST /api/group/<id>/add_users|remove_users`` (resdk's ``group.add_users``):

    resolwe-prefect manage ensure_group lab --users alice bob

Idempotent: an existing group is kept and the users are added to it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a group if needed and add the given users to it (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--users", nargs="*", default=[], help="user names to add as members")

    def handle(self, *args, name: str, users: list[str], **options) -> None:
        found = list(get_user_model().objects.filter(username__in=users))
        missing = sorted(set(users) - {user.username for user in found})
        if missing:
            raise CommandError(f"Unknown user(s): {', '.join(missing)}")
        group, created = Group.objects.get_or_create(name=name)
        group.user_set.add(*found)
        self.stdout.write(f"{'created' if created else 'updated'} group {name} (id {group.pk})")
