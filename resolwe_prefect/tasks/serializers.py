"""The task resource and the request bodies of the actions that start tasks."""

from __future__ import annotations

from rest_framework import serializers

from resolwe_prefect.api.serializers import ResolweDateTimeField

from .models import BackgroundTask


class BackgroundTaskSerializer(serializers.ModelSerializer):
    """``{id, started, finished, status, description, output}``, what resdk's BackgroundTask loads."""

    started = ResolweDateTimeField(read_only=True)
    finished = ResolweDateTimeField(read_only=True, allow_null=True)  # null until the task ends
    output = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = BackgroundTask
        fields = ["id", "started", "finished", "status", "description", "output"]
        read_only_fields = fields


class IdsSerializer(serializers.Serializer):
    """``{"ids": [<int>, ...]}`` for ``bulk_delete``."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)


class DuplicateSerializer(IdsSerializer):
    """``{"ids": [...]}`` plus Resolwe's optional ``inherit_collection`` / ``inherit_entity``."""

    # One body for every ``duplicate``, as in Resolwe; a viewset passes on the
    # options its operation takes (``DuplicateMixin.duplicate_options``).
    inherit_collection = serializers.BooleanField(required=False, default=False)
    inherit_entity = serializers.BooleanField(required=False, default=False)
