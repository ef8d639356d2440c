"""``ensure_user``: create a user, or bring an existing one to the given password and flags.

Idempotent, for fixtures and scripted setups (the conformance runner creates
its standard users with it):

    resolwe-prefect manage ensure_user contributor --password secret
    resolwe-prefect manage ensure_user admin --password secret --superuser --staff
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a user or update its password and flags (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default=None, help="default: <username>@localhost")
        parser.add_argument("--superuser", action="store_true", help="make the user a superuser")
        parser.add_argument("--staff", action="store_true", help="make the user staff")

    def handle(self, *args, username: str, password: str, email: str | None, superuser: bool, staff: bool, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": email or f"{username}@localhost"}
        )
        if email is not None:
            user.email = email
        user.is_superuser = superuser
        user.is_staff = staff
        user.is_active = True
        if created or not user.check_password(password):
            user.set_password(password)
        user.save()
        self.stdout.write(f"{'created' if created else 'updated'} user {username}")
