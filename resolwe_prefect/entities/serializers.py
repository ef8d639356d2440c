"""Collection and Entity (``/api/sample``) in Resolwe's shapes.

``data_count``, ``entity_count`` and ``status`` are queryset annotations (see
``entities.views``), so serializing a page costs no query per object.
"""

from __future__ import annotations

from rest_framework import serializers

from resolwe_prefect.api.fields import JSONObjectField, StrictCharField, TagsField
from resolwe_prefect.api.serializers import BaseResolweSerializer, NestedReferenceField
from resolwe_prefect.descriptors.models import DescriptorSchema
from resolwe_prefect.descriptors.serializers import NestedDescriptorSchemaSerializer, check_descriptor
from resolwe_prefect.permissions.api import require_edit
from resolwe_prefect.permissions.services import join_container

from .models import Collection, Entity

COLLECTION_FIELDS = [
    "id", "slug", "name", "description", "settings", "tags", "created", "modified", "duplicated",
    "contributor", "data_count", "entity_count", "status", "descriptor", "descriptor_schema",
    "descriptor_dirty", "current_user_permissions",
]  # fmt: skip


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


class CollectionSerializer(DescriptorSerializerMixin, BaseResolweSerializer):
    name = StrictCharField()
    slug = StrictCharField(required=False)
    tags = TagsField(required=False)
    settings = JSONObjectField(required=False)
    data_count = serializers.IntegerField(read_only=True)
    entity_count = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Collection
        fields = COLLECTION_FIELDS
        read_only_fields = ["id", "created", "modified", "duplicated", "descriptor_dirty"]


class NestedCollectionSerializer(CollectionSerializer):
    """The ``collection`` inside Data and Entity payloads (resdk asserts a dict)."""

    class Meta(CollectionSerializer.Meta):
        fields = [f for f in COLLECTION_FIELDS if f != "current_user_permissions"]


class EntitySerializer(DescriptorSerializerMixin, BaseResolweSerializer):
    """``collection`` is nested on read and ``{"id"}`` on write; moving it moves the entity's Data."""

    name = StrictCharField()
    slug = StrictCharField(required=False)
    tags = TagsField(required=False)
    settings = JSONObjectField(required=False)
    data_count = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True, allow_null=True)
    collection = NestedReferenceField(
        NestedCollectionSerializer, queryset=Collection.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Entity
        fields = [
            "id", "slug", "name", "description", "settings", "tags", "created", "modified", "duplicated",
            "contributor", "data_count", "status", "type", "collection", "descriptor", "descriptor_schema",
            "descriptor_dirty", "current_user_permissions",
        ]  # fmt: skip
        read_only_fields = ["id", "created", "modified", "duplicated", "descriptor_dirty"]

    def validate_collection(self, value: Collection | None) -> Collection | None:
        if value is None and self.instance is not None and self.instance.collection_id is not None:
            raise serializers.ValidationError("Entity can not be removed from the collection.")
        if value is not None and getattr(self.instance, "collection_id", None) != value.pk:
            require_edit(self.context["request"].user, value, "collection")
        return value

    def update(self, instance: Entity, validated_data: dict) -> Entity:
        collection = validated_data.get("collection", instance.collection)
        moved = "collection" in validated_data and getattr(collection, "pk", None) != instance.collection_id
        entity = super().update(instance, validated_data)
        if moved:
            entity.data.update(collection=collection)
            join_container(entity)  # the entity and its Data take the collection's permissions
        return entity


class NestedEntitySerializer(BaseResolweSerializer):
    """The ``entity`` inside a Data payload: ``collection`` is an id, as Resolwe's BaseEntitySerializer."""

    class Meta:
        model = Entity
        fields = [
            "id", "slug", "name", "type", "collection", "tags", "description", "descriptor",
            "descriptor_dirty", "created", "modified", "duplicated",
        ]  # fmt: skip
        read_only_fields = fields
