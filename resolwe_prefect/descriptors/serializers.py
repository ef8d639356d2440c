"""DescriptorSchema in Resolwe's shape."""

from __future__ import annotations

from rest_framework import serializers

from resolwe_prefect.api.serializers import BaseResolweSerializer

from .models import DescriptorSchema


class DescriptorSchemaSerializer(BaseResolweSerializer):
    """Read-only over the API: schemas are registered from YAML."""

    version = serializers.CharField(read_only=True)

    class Meta:
        model = DescriptorSchema
        fields = [
            "id", "slug", "name", "version", "description", "schema", "created", "modified",
            "contributor", "current_user_permissions",
        ]  # fmt: skip
        read_only_fields = fields


class NestedDescriptorSchemaSerializer(DescriptorSchemaSerializer):
    """The ``descriptor_schema`` inside other objects; no contributor, so no extra join."""

    class Meta(DescriptorSchemaSerializer.Meta):
        fields = ["id", "slug", "name", "version", "description", "schema", "created", "modified"]
        read_only_fields = fields


def check_descriptor(schema: DescriptorSchema | None, descriptor: dict) -> tuple[dict, bool]:
    """Fill defaults into ``descriptor`` and tell whether it is *dirty*.

    As in Resolwe, a descriptor that only lacks required values is stored and
    flagged ``descriptor_dirty``; any other violation is a 400.
    """
    if schema is None:
        return descriptor, False
    from rest_framework import serializers as drf_serializers

    from resolwe_prefect.processes.fields import fill_defaults, validate_values

    if not isinstance(descriptor, dict):
        raise drf_serializers.ValidationError({"descriptor": ["The descriptor must be an object."]})
    descriptor = fill_defaults(schema.schema, descriptor)
    errors = validate_values(schema.schema, descriptor, kind="descriptor")
    invalid = [error for error in errors if error.code != "required"]
    if invalid:
        raise drf_serializers.ValidationError(
            {"descriptor": [f"{e}{f' ({e.detail})' if e.detail else ''}" for e in invalid]}
        )
    return descriptor, bool(errors)
