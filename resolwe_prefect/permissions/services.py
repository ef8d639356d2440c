"""Reading, granting and checking permission levels.

Everything goes through the object's ``permission_group``: visibility of a
queryset is one ``EXISTS`` over ``PermissionModel`` correlated on that
column, so list endpoints cost the same number of queries whatever the page
size. The public user's level counts for everybody, but is capped at VIEW.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Prefetch, Q, QuerySet

from .models import PUBLIC_USERNAME, Permission, PermissionGroup, PermissionModel

#: Attribute set on a PermissionGroup by ``prefetch_caller_permissions``.
CALLER_ROWS = "caller_permissions"

PUBLIC = "public"  # marker accepted by ``set_permission`` for the public user


def get_public_user():
    """The user anonymous requests act as; created on first use when the migration has not run."""
    user, created = get_user_model().objects.get_or_create(username=PUBLIC_USERNAME)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _is_superuser(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def holders(user, level: int = Permission.VIEW) -> Q:
    """Rows (on ``PermissionModel``) that speak for ``user``: their own, their groups' and public's.

    Public counts only up to VIEW, so it is left out when a higher level is asked for.
    """
    condition = Q(pk__in=[])
    if level <= Permission.VIEW:
        condition |= Q(user_id__in=get_user_model().objects.filter(username=PUBLIC_USERNAME).values("pk"))
    if user is not None and user.is_authenticated:
        condition |= Q(user_id=user.pk) | Q(group_id__in=user.groups.values("pk"))
    return condition


def filter_for_user(
    queryset: QuerySet, user, level: int = Permission.VIEW, *, field: str = "permission_group", use_public: bool = True
) -> QuerySet:
    """Objects on which ``user`` holds at least ``level``; superusers see everything.

    ``field`` is the path from the model to its permission group
    (``entity__permission_group`` for annotation values).
    """
    if _is_superuser(user):
        return queryset
    rows = PermissionModel.objects.filter(permission_group=OuterRef(field), value__gte=level)
    condition = holders(user, level if use_public else Permission.EDIT)
    return queryset.filter(Exists(rows.filter(condition)))


def group_id_of(obj: Model, field: str = "permission_group") -> int | None:
    """Follow ``field`` (``a__b__permission_group``) from ``obj`` to a permission group id."""
    *path, last = field.split("__")
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


def _is_public_row(row: PermissionModel) -> bool:
    return row.user_id is not None and row.user.username == PUBLIC_USERNAME


def caller_rows(user, obj: Model, field: str = "permission_group") -> list[PermissionModel]:
    """The rows of ``obj``'s group held by ``user``, their groups or public (prefetched when available)."""
    group_id = group_id_of(obj, field)
    if group_id is None:
        return []
    if "__" not in field:
        relation = type(obj)._meta.get_field(field)
        group = relation.get_cached_value(obj) if relation.is_cached(obj) else None
        if group is not None and hasattr(group, CALLER_ROWS):
            return getattr(group, CALLER_ROWS)
    return list(
        PermissionModel.objects.filter(permission_group_id=group_id)
        .filter(holders(user))
        .select_related("user", "group")
        .order_by("pk")
    )


def user_level(user, obj: Model, field: str = "permission_group") -> int:
    """The highest level ``user`` holds on ``obj``: their own, their groups' or public's (capped at VIEW)."""
    if _is_superuser(user):
        return Permission.OWNER
    level = Permission.NONE
    for row in caller_rows(user, obj, field):
        value = min(row.value, Permission.VIEW) if _is_public_row(row) else row.value
        level = max(level, value)
    return int(level)


def prefetch_caller_permissions(queryset: QuerySet, user, field: str = "permission_group") -> QuerySet:
    """Load the caller's rows for every object in one query, for ``current_user_permissions``."""
    rows = PermissionModel.objects.filter(holders(user)).select_related("user", "group").order_by("pk")
    return queryset.prefetch_related(Prefetch(f"{field}__permissions", queryset=rows, to_attr=CALLER_ROWS))


# --- serialization ---------------------------------------------------------------------


def _entry(row: PermissionModel) -> dict[str, Any]:
    names = Permission(row.value).names()
    if row.group_id is not None:
        return {"type": "group", "id": row.group_id, "name": row.group.name, "permissions": names}
    if row.user.username == PUBLIC_USERNAME:
        return {"type": "public", "permissions": Permission(min(row.value, Permission.VIEW)).names()}
    user = row.user
    return {
        "type": "user",
        "id": user.pk,
        "name": user.get_full_name() or user.username,
        "username": user.username,
        "permissions": names,
    }


def _sorted(entries: list[dict]) -> list[dict]:
    order = {"user": 0, "group": 1, "public": 2}
    return sorted(entries, key=lambda e: (order[e["type"]], e.get("id") or 0))


def get_permissions(obj: Model) -> list[dict]:
    """Every user, group and public entry on ``obj``'s group, in Resolwe's list format."""
    if obj.permission_group_id is None:
        return []
    rows = PermissionModel.objects.filter(permission_group_id=obj.permission_group_id).select_related("user", "group")
    return _sorted([_entry(row) for row in rows if row.value > Permission.NONE])


def current_user_permissions(user, obj: Model, field: str = "permission_group") -> list[dict]:
    """The caller's, the caller's groups' and public's entries; a superuser's own entry lists every level."""
    entries = [_entry(row) for row in caller_rows(user, obj, field) if row.value > Permission.NONE]
    if _is_superuser(user):
        entries = [e for e in entries if not (e["type"] == "user" and e["id"] == user.pk)]
        entries.append(
            {
                "type": "user",
                "id": user.pk,
                "name": user.get_full_name() or user.username,
                "username": user.username,
                "permissions": Permission.OWNER.names(),
            }
        )
    return _sorted(entries)


# --- granting --------------------------------------------------------------------------


def ensure_group(obj: Model) -> PermissionGroup:
    """``obj``'s permission group; an object that has none (made outside the API) gets one owned by its contributor."""
    if obj.permission_group_id is not None:
        return obj.permission_group
    group = PermissionGroup.objects.create()
    type(obj).objects.filter(pk=obj.pk).update(permission_group=group)
    obj.permission_group = group
    contributor = getattr(obj, "contributor", None)
    if contributor is not None and contributor.username != PUBLIC_USERNAME:
        PermissionModel.objects.create(permission_group=group, user=contributor, value=Permission.OWNER)
    return group


def set_permission(obj: Model, holder: Any, level: int) -> None:
    """Set exactly ``level`` for a user, a Django group or public (``"public"`` or the public user).

    NONE removes the row. Public above VIEW and OWNER for a group are refused
    with ``ValueError``: those would make the object writable by everyone or
    owned by no one in particular.
    """
    level = Permission(level)
    group = ensure_group(obj)
    if holder == PUBLIC or (not isinstance(holder, Group) and getattr(holder, "username", None) == PUBLIC_USERNAME):
        if level > Permission.VIEW:
            raise ValueError("Permissions for public users are too open")
        holder = get_public_user()
    if isinstance(holder, Group):
        if level == Permission.OWNER:
            raise ValueError("Owner permission cannot be assigned to a group")
        lookup = {"permission_group": group, "group": holder}
    else:
        lookup = {"permission_group": group, "user": holder}
    if level == Permission.NONE:
        PermissionModel.objects.filter(**lookup).delete()
    else:
        PermissionModel.objects.update_or_create(**lookup, defaults={"value": int(level)})


def assign_owner(obj: Model, user) -> None:
    """Make ``user`` an owner of ``obj`` (its group is created when missing)."""
    set_permission(obj, user, Permission.OWNER)


def copy_permissions(source: Model, target: Model) -> None:
    """Give ``target``'s own group the same rows as ``source``'s (replacing what it had)."""
    group = ensure_group(target)
    PermissionModel.objects.filter(permission_group=group).delete()
    if source.permission_group_id is None:
        return
    rows = PermissionModel.objects.filter(permission_group_id=source.permission_group_id)
    PermissionModel.objects.bulk_create(
        [PermissionModel(permission_group=group, user_id=r.user_id, group_id=r.group_id, value=r.value) for r in rows]
    )


# --- containment -----------------------------------------------------------------------


def container_of(obj: Model) -> Model | None:
    """The object whose group ``obj`` shares: its collection, else its entity (Data only)."""
    if getattr(obj, "collection_id", None) is not None:
        return obj.collection
    if getattr(obj, "entity_id", None) is not None:
        return obj.entity
    return None


@transaction.atomic
def on_created(obj: Model, *, copy_from: Model | None = None) -> None:
    """Give a new object its permission group.

    Inside a container it joins the container's group (and gains nothing
    extra); otherwise it gets its own group with the permissions of
    ``copy_from`` (a spawning parent, a previous process version) or, without
    one, the contributor as owner.
    """
    container = container_of(obj)
    if container is not None:
        group = ensure_group(container)
        type(obj).objects.filter(pk=obj.pk).update(permission_group=group)
        obj.permission_group = group
        return
    if copy_from is not None and copy_from.permission_group_id is not None:
        obj.permission_group = None
        group = PermissionGroup.objects.create()
        type(obj).objects.filter(pk=obj.pk).update(permission_group=group)
        obj.permission_group = group
        copy_permissions(copy_from, obj)
        return
    ensure_group(obj)


def join_container(obj: Model) -> None:
    """After a move: ``obj`` (and, for an entity, its Data) switch to the container's group.

    Permissions are replaced, not merged, as in Resolwe.
    """
    container = container_of(obj)
    if container is None:
        return
    group = ensure_group(container)
    type(obj).objects.filter(pk=obj.pk).update(permission_group=group)
    obj.permission_group = group
    if obj._meta.model_name == "entity":
        obj.data.update(permission_group=group)


def is_contained(obj: Model) -> bool:
    """Permissions can be set only on top-level objects; contained ones use their container's."""
    return container_of(obj) is not None
