"""Annotation payloads in Resolwe's shapes (resolwe/flow/serializers/annotations.py).

An AnnotationValue is written as ``{"entity": id, "field": id, "value": v}``
(``{"id": n}`` references are accepted too) and read back with its ``label``.
Writing is an upsert on (entity, field), so the unique-together validator
DRF would add is switched off.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import serializers

from resolwe_prefect.api.fields import StrictCharField
from resolwe_prefect.api.serializers import BaseResolweSerializer, ContributorSerializer, ResolweDateTimeField
from resolwe_prefect.entities.models import Entity
from resolwe_prefect.permissions.api import require_edit
from resolwe_prefect.permissions.serializers import CurrentUserPermissionsMixin

from . import services
from .models import AnnotationField, AnnotationGroup, AnnotationPreset, AnnotationValue
from .validation import validate_value


class PrimaryKeyDictField(serializers.PrimaryKeyRelatedField):
    """A reference written as a bare id or ``{"id": n}`` (Resolwe's PrimaryKeyDictRelatedField)."""

    def to_internal_value(self, data: Any):
        if isinstance(data, dict):
            data = data.get("id")
        return super().to_internal_value(data)


class AnnotationGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnnotationGroup
        fields = ["id", "name", "label", "sort_order"]
        read_only_fields = fields


class AnnotationFieldSerializer(serializers.ModelSerializer):
    """resdk requires the nested ``group``; fields are read-only over REST."""

    group = AnnotationGroupSerializer(read_only=True)

    class Meta:
        model = AnnotationField
        fields = [
            "id", "name", "label", "description", "type", "group", "sort_order", "validator_regex",
            "vocabulary", "required", "version",
        ]  # fmt: skip
        read_only_fields = fields


class AnnotationByPathSerializer(serializers.Serializer):
    """One item of ``set_annotations``: ``{"field_path": "group.field", "value": v}`` (null deletes)."""

    field_path = StrictCharField()
    value = serializers.JSONField(allow_null=True)


class AnnotationPresetSerializer(BaseResolweSerializer, CurrentUserPermissionsMixin):
    fields = PrimaryKeyDictField(many=True, queryset=AnnotationField.objects.all(), required=False)

    class Meta:
        model = AnnotationPreset
        fields = ["id", "name", "fields", "contributor", "current_user_permissions"]
        read_only_fields = ["id"]


class AnnotationValueListSerializer(serializers.ListSerializer):
    """Bulk upsert: one transaction, ``"value": null`` deletes, duplicate pairs are refused."""

    def validate(self, attrs: list[dict]) -> list[dict]:
        pairs = [(item["entity"].pk, item["field"].pk) for item in attrs]
        if len(set(pairs)) != len(pairs):
            raise serializers.ValidationError("Duplicate annotation values for the same entity and field.")
        return attrs

    def create(self, validated_data: list[dict]) -> list[AnnotationValue]:
        with transaction.atomic():
            written = [self.child.create(item) for item in validated_data]
        return [value for value in written if value is not None]


class AnnotationValueSerializer(serializers.ModelSerializer):
    entity = PrimaryKeyDictField(queryset=Entity.objects.all())
    field = PrimaryKeyDictField(queryset=AnnotationField.objects.select_related("group"))
    value = serializers.JSONField(allow_null=True)
    label = serializers.JSONField(read_only=True)
    contributor = ContributorSerializer(read_only=True)
    created = ResolweDateTimeField(read_only=True)

    class Meta:
        model = AnnotationValue
        fields = ["id", "entity", "field", "value", "label", "created", "contributor"]
        read_only_fields = ["id"]
        list_serializer_class = AnnotationValueListSerializer
        # Writing is an upsert on (entity, field): the pair is allowed to exist already.
        validators: list = []

    def validate_entity(self, value: Entity) -> Entity:
        """Writing a value needs EDIT on its entity (an invisible entity does not exist)."""
        request = self.context.get("request")
        if request is not None:
            require_edit(request.user, value, "entity")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs.get("value") is not None:
            errors = validate_value(attrs["field"], attrs["value"])
            if errors:
                raise serializers.ValidationError({"value": errors})
        return attrs

    def create(self, validated_data: dict) -> AnnotationValue | None:
        return services.upsert_value(
            validated_data["entity"], validated_data["field"], validated_data["value"], validated_data["contributor"]
        )

    def update(self, instance: AnnotationValue, validated_data: dict) -> AnnotationValue | None:
        """Only the value changes; ``entity`` and ``field`` are update-protected as in Resolwe."""
        return services.upsert_value(
            instance.entity, instance.field, validated_data["value"], validated_data["contributor"]
        )


class AnnotationFieldIdsSerializer(serializers.Serializer):
    """Body of ``POST /api/collection/<id>/set_annotation_fields``."""

    annotation_fields = PrimaryKeyDictField(many=True, queryset=AnnotationField.objects.all())
    confirm_action = serializers.BooleanField(default=False)
