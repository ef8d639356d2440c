"""Serializer building blocks shared by every Resolwe resource.

* datetimes always carry microseconds and an offset (resdk parses them with
  ``strptime("%Y-%m-%dT%H:%M:%S.%f%z")`` on older Pythons);
* nested references are written as ``{"id": n}`` or ``{"slug": s}`` and read
  back as nested objects;
* ``update_protected_fields`` are silently dropped on update, as in Resolwe;
* user-supplied slugs are validated with Resolwe's messages.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from resolwe_prefect.core.slugs import is_valid_slug

from .fields import StrictCharField, parse_pk


class ResolweDateTimeField(serializers.DateTimeField):
    """ISO-8601 with microseconds and ``+HH:MM`` even when the microseconds are zero."""

    def to_representation(self, value):
        if not value:
            return None
        return self.enforce_timezone(value).isoformat(timespec="microseconds")


class ContributorSerializer(serializers.ModelSerializer):
    """The public face of a user inside other objects; never exposes email or flags."""

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.OBJECT)
class NestedReferenceField(serializers.RelatedField):
    """A foreign key read as a nested object and written as ``{"id"}``, ``{"slug"}`` or a bare id.

    A slug resolves to the highest version when the model is versioned, so
    ``{"slug": "reads"}`` means "the latest descriptor schema ``reads``".
    """

    default_error_messages = {
        "does_not_exist": 'Invalid {kind} "{value}" - object does not exist.',
        "invalid": 'Expected {{"id": <int>}} or {{"slug": <str>}}, got {value!r}.',
    }

    def __init__(self, serializer_class: type[serializers.Serializer], **kwargs):
        self.serializer_class = serializer_class
        super().__init__(**kwargs)

    def use_pk_only_optimization(self) -> bool:
        return False

    @cached_property
    def nested_serializer(self) -> serializers.Serializer:
        """One serializer per bound field, reused for every row.

        Building a ModelSerializer's fields is the expensive part (a few ms
        each); a fresh serializer per value made a page of 100 Data objects
        build ~300 of them, most of the list's time.
        """
        return self.serializer_class(context=self.context)

    def to_representation(self, value):
        return self.nested_serializer.to_representation(value)

    def to_internal_value(self, data: Any):
        queryset = self.get_queryset()
        if isinstance(data, dict):
            if "id" in data:
                kind, value = "pk", data["id"]
            elif "slug" in data:
                kind, value = "slug", data["slug"]
            else:
                self.fail("invalid", value=data)
        elif isinstance(data, int) and not isinstance(data, bool) or isinstance(data, str) and data.isdigit():
            kind, value = "pk", data
        else:
            self.fail("invalid", value=data)
        if kind == "pk":
            pk = parse_pk(value)
            if pk is None:
                self.fail("does_not_exist", kind=kind, value=str(value)[:100])
            found = queryset.filter(pk=pk).first()
        elif not isinstance(value, str):
            self.fail("invalid", value=data)
        else:
            ordering = ["-version"] if any(f.name == "version" for f in queryset.model._meta.fields) else ["-id"]
            found = queryset.filter(slug=value).order_by(*ordering).first()
        if found is None:
            self.fail("does_not_exist", kind=kind, value=value)
        return found

    def get_choices(self, cutoff=None):
        """The browsable API would list every object; a reference needs no choices."""
        return {}


#: Model fields to serializer fields: Resolwe's datetimes, and text that must arrive as text.
STRICT_FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.DateTimeField: ResolweDateTimeField,
    models.CharField: StrictCharField,
    models.TextField: StrictCharField,
}


class BaseResolweSerializer(serializers.ModelSerializer):
    """Base for Resolwe's object serializers."""

    serializer_field_mapping = STRICT_FIELD_MAPPING

    #: Writable on create, silently ignored on update (Resolwe's ``update_protected_fields``).
    update_protected_fields: tuple[str, ...] = ("contributor",)

    contributor = ContributorSerializer(read_only=True)

    def validate_slug(self, value: str) -> str:
        """Resolwe answers a bad or taken slug with ``{"detail": ...}``, not a field error."""
        if not isinstance(value, str) or not is_valid_slug(value):
            raise ParseError(f"The value {value} is not a valid slug.")
        model = self.Meta.model
        taken = model.objects.filter(slug=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            version = getattr(self.instance, "version", None) or "0.0.0"
            raise ParseError(f"Slug '{value}' (version {version}) is already taken.")
        return value

    def update(self, instance, validated_data: dict):
        for name in self.update_protected_fields:
            validated_data.pop(name, None)
        return super().update(instance, validated_data)

    def writable_update_fields(self) -> set[str]:
        """Names a PATCH may change; a PATCH with none of them is answered with 204."""
        return {
            name
            for name, field in self.fields.items()
            if not field.read_only and name not in self.update_protected_fields
        }


class SlugExistsSerializer(serializers.Serializer):
    """``?name=<slug>`` for ``slug_exists``."""

    name = serializers.CharField()
