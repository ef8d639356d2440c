"""Process as Resolwe serializes it: every version, schemas with ``:``-terminated types."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from resolwe_prefect.api.serializers import BaseResolweSerializer
from resolwe_prefect.core.versions import normalize_version
from resolwe_prefect.permissions.serializers import CurrentUserPermissionsMixin

from .models import Process

PROCESS_FIELDS = [
    "id", "slug", "name", "version", "created", "modified", "contributor", "current_user_permissions",
    "is_active", "type", "category", "data_name", "description", "persistence", "scheduling_class",
    "input_schema", "output_schema", "requirements", "run", "entity_type", "entity_descriptor_schema",
    "entity_input", "entity_always_create",
]  # fmt: skip


def _with_colon(value: str) -> str:
    return value if not value or value.endswith(":") else f"{value}:"


def _normalize_schema(schema: Any) -> Any:
    """Append ``:`` to field types (recursively into groups), as registration does."""
    if not isinstance(schema, list):
        return schema
    result = []
    for field in schema:
        if isinstance(field, dict):
            field = dict(field)
            if isinstance(field.get("type"), str):
                field["type"] = _with_colon(field["type"])
            if "group" in field:
                field["group"] = _normalize_schema(field["group"])
        result.append(field)
    return result


class ProcessSerializer(BaseResolweSerializer, CurrentUserPermissionsMixin):
    """Read everything; superusers may POST a process directly (``is_active`` is forced on)."""

    version = serializers.CharField(required=False, default="0.0.0")
    slug = serializers.CharField(required=True)
    name = serializers.CharField(required=True)

    class Meta:
        model = Process
        fields = PROCESS_FIELDS
        read_only_fields = ["id", "created", "modified", "is_active"]
        # A (slug, version) clash is left to the database: Resolwe answers it with 409.
        validators: list = []

    def validate_slug(self, value: str) -> str:
        # Process slugs repeat across versions; (slug, version) clashes become 409s.
        from rest_framework.exceptions import ParseError

        from resolwe_prefect.core.slugs import is_valid_slug

        if not is_valid_slug(value):
            raise ParseError(f"The value {value} is not a valid slug.")
        return value

    def validate_version(self, value: str) -> str:
        try:
            return normalize_version(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate_type(self, value: str) -> str:
        return _with_colon(value)

    def validate_category(self, value: str) -> str:
        return _with_colon(value)

    def validate_input_schema(self, value: Any) -> Any:
        return _normalize_schema(value)

    def validate_output_schema(self, value: Any) -> Any:
        return _normalize_schema(value)

    def create(self, validated_data: dict) -> Process:
        validated_data["is_active"] = True
        validated_data.setdefault("run", {})
        validated_data["run"] = {"language": "bash", **(validated_data["run"] or {})}
        return super().create(validated_data)


class NestedProcessSerializer(ProcessSerializer):
    """The ``process`` object inside a Data payload (resdk needs the schemas and type)."""

    class Meta(ProcessSerializer.Meta):
        fields = [f for f in PROCESS_FIELDS if f != "current_user_permissions"]
