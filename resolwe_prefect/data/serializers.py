"""Data and Storage in Resolwe's shapes.

Creation does not go through a serializer: ``data.services.create_data``
owns every creation rule. The serializer reads Data and applies PATCHes,
enforcing Resolwe's container rules (an object never leaves its container,
and its entity and collection must agree).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from resolwe_prefect.api.fields import JSONObjectField, StrictCharField, TagsField, check_value
from resolwe_prefect.api.serializers import BaseResolweSerializer, NestedReferenceField
from resolwe_prefect.descriptors.serializers import DescriptorSerializerMixin
from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.entities.serializers import NestedCollectionSerializer, NestedEntitySerializer
from resolwe_prefect.permissions.api import require_edit
from resolwe_prefect.permissions.serializers import CurrentUserPermissionsMixin
from resolwe_prefect.permissions.services import join_container
from resolwe_prefect.processes.serializers import NestedProcessSerializer

from .models import Data, Storage

DATA_READ_ONLY = [
    "id", "version", "checksum", "created", "modified", "descriptor_dirty", "duplicated", "started", "finished",
    "scheduled", "status", "output", "size", "process_cores", "process_memory", "process_error",
    "process_info", "process_warning", "process_progress", "process_rc", "flow_run_id", "flow_run_url",
]  # fmt: skip


class DataSerializer(DescriptorSerializerMixin, BaseResolweSerializer, CurrentUserPermissionsMixin):
    update_protected_fields = ("contributor", "input", "process")

    version = serializers.CharField(read_only=True)
    slug = StrictCharField(required=False)
    name = StrictCharField(required=False)
    tags = TagsField(required=False)
    process_resources = JSONObjectField(required=False)
    process = NestedProcessSerializer(read_only=True)
    collection = NestedReferenceField(
        NestedCollectionSerializer, queryset=Collection.objects.all(), required=False, allow_null=True
    )
    entity = NestedReferenceField(
        NestedEntitySerializer, queryset=Entity.objects.all(), required=False, allow_null=True
    )
    flow_run_url = serializers.SerializerMethodField()

    class Meta:
        model = Data
        fields = [
            *DATA_READ_ONLY, "slug", "name", "contributor", "current_user_permissions", "process", "input",
            "descriptor", "descriptor_schema", "process_resources", "tags", "collection", "entity",
        ]  # fmt: skip
        read_only_fields = DATA_READ_ONLY

    def get_flow_run_url(self, obj: Data) -> str | None:
        """The Data object's flow run in the Prefect UI, where operators watch, retry and cancel it."""
        return f"{settings.PREFECT_UI_URL}/runs/flow-run/{obj.flow_run_id}" if obj.flow_run_id else None

    def validate_process_resources(self, value):
        from .resources import validate_resource_overrides

        errors = validate_resource_overrides(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def _apply_container_rules(self, instance: Data, attrs: dict) -> None:
        """Resolwe's rules for moving Data; violations are 400 ``{"error": ...}``."""
        removed = [key for key in ("collection", "entity") if key in attrs and attrs[key] is None]
        if any(getattr(instance, f"{key}_id") is not None for key in removed):
            raise DjangoValidationError("Data object can not be removed from the container.")
        entity = attrs.get("entity")
        collection = attrs.get("collection")
        if entity is not None:
            if "collection" in attrs and collection is not None and entity.collection_id != collection.pk:
                raise DjangoValidationError("Entity must belong to the same collection as data object.")
            if entity.collection_id is None and instance.collection_id is not None:
                raise DjangoValidationError("Entity must belong to the same collection as data object.")
            attrs["collection"] = entity.collection
        elif collection is not None and instance.entity_id is not None:
            if instance.entity.collection_id != collection.pk:
                raise DjangoValidationError("Entity must belong to the same collection as data object.")

    def validate_collection(self, value: Collection | None) -> Collection | None:
        if value is not None and getattr(self.instance, "collection_id", None) != value.pk:
            require_edit(self.context["request"].user, value, "collection")
        return value

    def validate_entity(self, value: Entity | None) -> Entity | None:
        if value is not None and getattr(self.instance, "entity_id", None) != value.pk:
            require_edit(self.context["request"].user, value, "entity")
        return value

    def update(self, instance: Data, validated_data: dict) -> Data:
        self._apply_container_rules(instance, validated_data)
        if "name" in validated_data and validated_data["name"] != instance.name:
            validated_data["named_by_user"] = True
        moved = any(key in validated_data for key in ("collection", "entity"))
        data = super().update(instance, validated_data)
        if moved:
            join_container(data)
        return data


def plain_field_errors(**values) -> dict | None:
    """Field errors of ``name``, ``tags`` and ``descriptor`` of a new Data object (``create_data``).

    They must have their JSON types: ``12345`` is no name and ``"abc"`` no
    tag list (it was stored as three tags).
    """
    fields = {
        "name": StrictCharField(allow_null=True, allow_blank=True),
        "tags": TagsField(allow_null=True),
        "descriptor": JSONObjectField(allow_null=True),
    }
    errors: dict = {}
    for name, value in values.items():
        try:
            check_value(fields[name], name, value)
        except serializers.ValidationError as error:
            errors.update(error.detail)
    return errors or None


class StorageSerializer(BaseResolweSerializer):
    """``json`` is the document; ``data`` the ids of the Data objects that produced it."""

    class Meta:
        model = Storage
        fields = ["id", "slug", "name", "created", "modified", "contributor", "data", "json"]
        read_only_fields = fields
