"""Relation in Resolwe's shape: ``type`` by name, nested ``collection``, inline ``partitions``."""

from __future__ import annotations

from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied

from resolwe_prefect.api.serializers import STRICT_FIELD_MAPPING, BaseResolweSerializer, NestedReferenceField
from resolwe_prefect.descriptors.serializers import DescriptorSerializerMixin
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.entities.serializers import NestedCollectionSerializer
from resolwe_prefect.permissions.models import Permission
from resolwe_prefect.permissions.services import user_level

from .models import Relation, RelationPartition, RelationType
from .services import replace_partitions


class RelationPartitionSerializer(serializers.ModelSerializer):
    """``{id, entity, label, position}``; ``entity`` is a bare id, as resdk reads and writes it."""

    serializer_field_mapping = STRICT_FIELD_MAPPING
    entity = serializers.PrimaryKeyRelatedField(queryset=Entity.objects.all())

    class Meta:
        model = RelationPartition
        fields = ["id", "entity", "label", "position"]
        read_only_fields = ["id"]


class RelationSerializer(DescriptorSerializerMixin, BaseResolweSerializer):
    """``type`` is fixed at creation (update-protected); ``partitions`` are replaced as a whole."""

    update_protected_fields = ("contributor", "type")

    collection = NestedReferenceField(NestedCollectionSerializer, queryset=Collection.objects.all())
    type = serializers.SlugRelatedField(slug_field="name", queryset=RelationType.objects.all())
    partitions = RelationPartitionSerializer(many=True)

    class Meta:
        model = Relation
        fields = [
            "id", "created", "modified", "contributor", "collection", "type", "category", "unit",
            "partitions", "descriptor_schema", "descriptor", "descriptor_dirty",
        ]  # fmt: skip
        read_only_fields = ["id", "created", "modified", "descriptor_dirty"]
        # The unique (collection, category) pair is left to the database: a clash is Resolwe's 409.
        validators: list = []

    def validate_collection(self, collection: Collection) -> Collection:
        """A relation lives in its collection's permissions: placing one there needs EDIT on it.

        An invisible collection is reported as missing (404), a visible one without EDIT as 403.
        """
        if self.instance is not None and self.instance.collection_id == collection.pk:
            return collection
        level = user_level(self.context["request"].user, collection)
        if level < Permission.VIEW:
            raise NotFound()
        if level < Permission.EDIT:
            raise PermissionDenied(f"You do not have edit permission on collection {collection.pk}.")
        return collection

    def validate_partitions(self, partitions: list[dict]) -> list[dict]:
        """A relation without members means nothing; an entity can hold one place in a relation."""
        if not partitions:
            raise serializers.ValidationError("You should define at least one partition.")
        ids = [partition["entity"].pk for partition in partitions]
        duplicated = sorted({pk for pk in ids if ids.count(pk) > 1})
        if duplicated:
            raise serializers.ValidationError(f"Entities appear in more than one partition: {duplicated}.")
        return partitions

    def validate(self, attrs: dict) -> dict:
        """Relations group samples of one collection, so every partition's entity must be in it."""
        collection = attrs.get("collection", getattr(self.instance, "collection", None))
        if collection is None:  # required on create; the field's own error says so
            return attrs
        if "partitions" in attrs:
            entities = [partition["entity"] for partition in attrs["partitions"]]
        elif "collection" in attrs and self.instance is not None:
            entities = [partition.entity for partition in self.instance.partitions.select_related("entity")]
        else:
            entities = []
        outside = sorted(entity.pk for entity in entities if entity.collection_id != collection.pk)
        if outside:
            raise serializers.ValidationError(
                {"partitions": [f"Entities {outside} are not in collection {collection.pk}."]}
            )
        return attrs

    @transaction.atomic
    def create(self, validated_data: dict) -> Relation:
        partitions = validated_data.pop("partitions")
        relation = super().create(validated_data)
        replace_partitions(relation, partitions)
        return relation

    @transaction.atomic
    def update(self, instance: Relation, validated_data: dict) -> Relation:
        partitions = validated_data.pop("partitions", None)
        relation = super().update(instance, validated_data)
        if partitions is not None:
            replace_partitions(relation, partitions)
        return relation
