"""``create_secret``: the admin-side hook for secrets (Resolwe has no REST endpoint for them).

``resolwe-prefect manage create_secret --owner admin --value 'hello'`` prints
only the new handle on stdout, so scripts (and the conformance runner's
fixture hook) can capture it with ``$(...)``. ``--value-file PATH`` reads the
value from a file (``-`` for stdin) exactly as it is, trailing newline
included; prefer it to ``--value``, which other users can see in ``ps``.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from resolwe_prefect.secrets.services import create_secret


def _parse_expires(text: str) -> datetime:
    """An ISO 8601 time; a naive one is taken in the project's time zone."""
    parsed = parse_datetime(text)
    if parsed is None:
        raise CommandError(f"--expires: {text!r} is not an ISO 8601 date and time.")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class Command(BaseCommand):
    help = "Store an encrypted secret for a user and print its handle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner", required=True, help="username of the secret's owner (contributor)")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--value", help="the secret value")
        source.add_argument("--value-file", help="read the value from this file ('-' for stdin), unchanged")
        parser.add_argument("--metadata", default=None, help="JSON object stored (unencrypted) with the secret")
        parser.add_argument("--expires", default=None, help="ISO 8601 time after which the secret is unusable")

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        try:
            owner = User.objects.get(**{User.USERNAME_FIELD: options["owner"]})
        except User.DoesNotExist:
            raise CommandError(f"User {options['owner']!r} does not exist.") from None

        if options["value_file"] is not None:
            try:
                if options["value_file"] == "-":
                    value = sys.stdin.read()
                else:
                    with open(options["value_file"], encoding="utf-8", newline="") as value_file:
                        value = value_file.read()
            except OSError as error:
                raise CommandError(f"Cannot read {options['value_file']}: {error.strerror}.") from None
        else:
            value = options["value"]

        metadata = None
        if options["metadata"] is not None:
            try:
                metadata = json.loads(options["metadata"])
            except json.JSONDecodeError as error:
                raise CommandError(f"--metadata is not valid JSON: {error}.") from None
            if not isinstance(metadata, dict):
                raise CommandError("--metadata must be a JSON object.")

        expires = _parse_expires(options["expires"]) if options["expires"] else None
        handle = create_secret(value, owner, metadata=metadata, expires=expires)
        self.stdout.write(handle)
