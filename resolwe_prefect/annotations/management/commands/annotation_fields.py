"""``manage annotation_fields``: the admin-side hook for annotation fixtures.

Resolwe has no REST endpoint to define annotation fields, so fixtures (and
admins) use this command. It is idempotent: groups are matched by name and
fields by (group, name); matching rows are updated. Optionally it also sets
values on one entity (``--entity 5 --values '{"general.age": 42}'``), which
is how a fixture entity gets its annotations.

Prints ``{"group.field": field id, ...}`` as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from resolwe_prefect.annotations import services
from resolwe_prefect.entities.models import Entity


class Command(BaseCommand):
    help = "Create or update annotation groups and fields (and optionally set values on an entity)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", dest="json_text", help="a JSON list of field definitions")
        parser.add_argument("--file", help="a file holding that JSON list")
        parser.add_argument("--entity", type=int, help="id of an entity to annotate with --values")
        parser.add_argument("--values", help='JSON object {"group.field": value}; null deletes a value')
        parser.add_argument("--user", help="username recorded as the values' contributor (default: a superuser)")

    def handle(self, *args, json_text=None, file=None, entity=None, values=None, user=None, **options) -> None:
        specs = self._load(json_text, file)
        try:
            fields = services.define_fields(specs)
        except ValueError as error:
            raise CommandError(str(error)) from error
        if entity is not None or values is not None:
            self._annotate(entity, values, user)
        self.stdout.write(json.dumps({str(field): field.pk for field in fields}))

    @staticmethod
    def _load(json_text: str | None, file: str | None) -> list[dict]:
        text = json_text if json_text is not None else Path(file).read_text() if file else "[]"
        try:
            specs = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(f"Invalid JSON: {error}") from error
        if isinstance(specs, dict):
            specs = [specs]
        if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
            raise CommandError("Expected a JSON list of objects.")
        return specs

    @staticmethod
    def _annotate(entity_id: int | None, values_text: str | None, username: str | None) -> None:
        if entity_id is None or values_text is None:
            raise CommandError("--entity and --values go together.")
        entity = Entity.objects.filter(pk=entity_id).first()
        if entity is None:
            raise CommandError(f"Entity {entity_id} does not exist.")
        values = json.loads(values_text)
        users = get_user_model().objects
        contributor = (
            users.get(username=username) if username else users.filter(is_superuser=True).order_by("pk").first()
        )
        contributor = contributor or entity.contributor
        try:
            services.set_entity_values(entity, values, contributor)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
