"""Collection and Entity (``/api/sample``) in Resolwe's shapes.

``data_count``, ``entity_count`` and ``status`` are queryset annotations (see
``entities.views``), so serializing a page costs no query per object.
"""

from __future__ import annotations

from rest_framework import serializers

from resolwe_prefect.api.fields import JSONObjectField, StrictCharField, TagsField
from resolwe_prefect.api.serializers import BaseResolweSerializer, NestedReferenceField
from resolwe_prefect.descriptors.serializers import DescriptorSerializerMixin
from resolwe_prefect.permissions.api import require_edit
from resolwe_prefect.permissions.serializers import CurrentUserPermissionsMixin
from resolwe_prefect.permissions.services import join_container
from resolwe_prefect.tasks.serializers import IdsSerializer

from .models import Collection, Entity

COLLECTION_FIELDS = [
    "id", "slug", "name", "description", "settings", "tags", "created", "modified", "duplicated",
    "contributor", "data_count", "entity_count", "status", "descriptor", "descriptor_schema",
    "descriptor_dirty", "current_user_permissions",
]  # fmt: skip


class CollectionSerializer(DescriptorSerializerMixin, BaseResolweSerializer, CurrentUserPermissionsMixin):
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


class EntitySerializer(DescriptorSerializerMixin, BaseResolweSerializer, CurrentUserPermissionsMixin):
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


class MoveToCollectionSerializer(IdsSerializer):
    """``{"ids": [...], "destination_collection": <id>}``."""

    destination_collection = serializers.IntegerField(min_value=1)
