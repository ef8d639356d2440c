"""Users and groups as the Genialis platform exposes them to resdk."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q
from rest_framework import serializers

from resolwe_prefect.api.serializers import STRICT_FIELD_MAPPING

from .permissions import is_staff

User = get_user_model()


class UserSerializer(serializers.ModelSerializer):
    """No password, no flags: resdk reads ``email`` and the names.

    The names and the e-mail are writable (``PATCH /api/user/<id>``, on
    oneself, or on anyone for staff); the user name is not, since permission
    payloads and logins address users by it.

    Another user's e-mail is personal: non-staff callers see others as
    Resolwe's contributor does (``id``, ``username`` and the names) and
    only their own e-mail. Sharing by e-mail needs no list of e-mails: the
    permission payload resolves the address on the server.
    """

    serializer_field_mapping = STRICT_FIELD_MAPPING

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name"]
        read_only_fields = ["id", "username"]

    def to_representation(self, instance) -> dict:
        data = super().to_representation(instance)
        request = self.context.get("request")
        caller = getattr(request, "user", None)
        if caller is None or not (is_staff(caller) or caller.pk == instance.pk):
            data.pop("email", None)
        return data

    def validate_email(self, value: str) -> str:
        """Logins and permission payloads accept an e-mail in place of a user name.

        So an e-mail may belong to one user only and may not be another
        user's name: either would let its holder be taken for someone else.
        """
        others = User.objects.exclude(pk=self.instance.pk) if self.instance is not None else User.objects.all()
        if value and others.filter(Q(email__iexact=value) | Q(username__iexact=value)).exists():
            raise serializers.ValidationError("A user with this e-mail already exists.")
        return value

    def writable_update_fields(self) -> set[str]:
        """What a PATCH may change; one with none of these is answered 204 (Resolwe's rule)."""
        return {name for name, field in self.fields.items() if not field.read_only}


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["id", "name"]
        read_only_fields = fields


class UserIdsSerializer(serializers.Serializer):
    """``{"user_ids": [int, …]}``: the body of ``add_users`` and ``remove_users``."""

    user_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=True)
