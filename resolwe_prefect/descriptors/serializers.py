"""DescriptorSchema in Resolwe's shape, and the ``descriptor`` fields of the objects that carry one."""

from __future__ import annotations

from rest_framework import serializers

from resolwe_prefect.api.fields import JSONObjectField
from resolwe_prefect.api.serializers import BaseResolweSerializer, NestedReferenceField
from resolwe_prefect.permissions.serializers import CurrentUserPermissionsMixin

from .models import DescriptorSchema
from .validation import DescriptorError, fill_descriptor


class DescriptorSchemaSerializer(BaseResolweSerializer, CurrentUserPermissionsMixin):
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
    try:
        return fill_descriptor(schema, descriptor)
    except DescriptorError as error:
        raise serializers.ValidationError({"descriptor": error.messages}) from error


class DescriptorSerializerMixin(serializers.Serializer):
    """``descriptor_schema`` by reference and ``descriptor_dirty`` recomputed on every write."""

    descriptor_schema = NestedReferenceField(
        NestedDescriptorSchemaSerializer, queryset=DescriptorSchema.objects.all(), required=False, allow_null=True
    )
    descriptor = JSONObjectField(required=False)

    def _mark_dirty(self, validated_data: dict) -> dict:
        if "descriptor" in validated_data or "descriptor_schema" in validated_data:
            schema = validated_data.get("descriptor_schema", getattr(self.instance, "descriptor_schema", None))
            descriptor = validated_data.get("descriptor", getattr(self.instance, "descriptor", {}))
            descriptor, dirty = check_descriptor(schema, descriptor)
            validated_data["descriptor"], validated_data["descriptor_dirty"] = descriptor, dirty
        return validated_data

    def create(self, validated_data: dict):
        return super().create(self._mark_dirty(validated_data))

    def update(self, instance, validated_data: dict):
        return super().update(instance, self._mark_dirty(validated_data))
