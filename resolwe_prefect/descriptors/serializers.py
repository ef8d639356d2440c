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
    """Fill defaults into ``descriptor`` and tell whether it is *dirty*; a 400 for anything else wrong."""
    from rest_framework import serializers as drf_serializers

    from .validation import DescriptorError, fill_descriptor

    try:
        return fill_descriptor(schema, descriptor)
    except DescriptorError as error:
        raise drf_serializers.ValidationError({"descriptor": error.messages}) from error
