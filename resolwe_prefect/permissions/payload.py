"""Applying a ``POST …/permissions`` body with Resolwe's checks and messages.

Every check runs before anything is written, except "at least one owner",
which needs the result: the whole update runs in a transaction and is rolled
back when no user owner is left.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model, Q
from rest_framework.exceptions import ParseError, PermissionDenied

from resolwe_prefect.api.fields import parse_pk

from . import services
from .models import PUBLIC_USERNAME, Permission, PermissionModel

LEVEL_NAMES = {level.name.lower(): level for level in Permission}


def _level(value: Any) -> Permission:
    if not isinstance(value, str) or value.lower() not in LEVEL_NAMES:
        raise ParseError(f"Unknown permission: {value}")
    return LEVEL_NAMES[value.lower()]


def _find_user(key: str):
    """Users are addressed by id, username or email (resdk sends whatever the caller typed).

    The kinds are tried in that order, so a user cannot capture grants meant
    for another by choosing an e-mail equal to that user's name.
    """
    users = get_user_model().objects
    pk = parse_pk(key)
    lookups = ([{"pk": pk}] if pk is not None else []) + [{"username": key}]
    if "@" in key:
        lookups.append({"email__iexact": key})
    for lookup in lookups:
        user = users.filter(**lookup).order_by("pk").first()
        if user is not None:
            return user
    return None


def _find_group(key: str) -> Group | None:
    condition = Q(name=key)
    pk = parse_pk(key)
    if pk is not None:
        condition |= Q(pk=pk)
    return Group.objects.filter(condition).order_by("pk").first()


def _section(payload: dict, name: str) -> dict:
    section = payload.get(name) or {}
    if not isinstance(section, dict):
        raise ParseError(f"'{name}' must be an object mapping {name} to permission names.")
    return {str(key): _level(value) for key, value in section.items()}


def apply_payload(obj: Model, payload: Any, caller) -> None:
    """Set every level the payload names; raise DRF errors with Resolwe's messages."""
    if not isinstance(payload, dict):
        raise ParseError("Expected a JSON object with 'users', 'groups' and/or 'public'.")
    users = _section(payload, "users")
    groups = _section(payload, "groups")
    public = _level(payload["public"]) if payload.get("public") is not None else None

    resolved_users = {key: _find_user(key) for key in users}
    resolved_groups = {key: _find_group(key) for key in groups}
    current = _current_levels(obj)

    is_owner = services.user_level(caller, obj) >= Permission.OWNER
    touches_owner = any(level == Permission.OWNER for level in [*users.values(), *groups.values()]) or any(
        user is not None and current.get(("user", user.pk), 0) >= Permission.OWNER and users[key] != Permission.OWNER
        for key, user in resolved_users.items()
    )
    if touches_owner and not is_owner:
        raise PermissionDenied("Only owners can grant/revoke owner permission")
    if public is not None and public > Permission.VIEW:
        raise PermissionDenied("Permissions for public users are too open")
    for key, user in resolved_users.items():
        if user is None:
            raise ParseError(f"Unknown user: {key}")
    for key, group in resolved_groups.items():
        if group is None:
            raise ParseError(f"Unknown group: {key}")
        if groups[key] == Permission.OWNER:
            raise ParseError("Owner permission cannot be assigned to a group")

    with transaction.atomic():
        services.ensure_group(obj)
        for key, user in resolved_users.items():
            services.set_permission(obj, user, users[key])
        for key, group in resolved_groups.items():
            services.set_permission(obj, group, groups[key])
        if public is not None:
            services.set_permission(obj, services.PUBLIC, public)
        owners = PermissionModel.objects.filter(
            permission_group_id=obj.permission_group_id, user__isnull=False, value__gte=Permission.OWNER
        ).exclude(user__username=PUBLIC_USERNAME)
        if not owners.exists():
            raise ParseError("Object must have at least one owner.")


def _current_levels(obj: Model) -> dict[tuple[str, int], int]:
    if obj.permission_group_id is None:
        return {}
    rows = PermissionModel.objects.filter(permission_group_id=obj.permission_group_id)
    return {("user", r.user_id) if r.user_id else ("group", r.group_id): r.value for r in rows}
