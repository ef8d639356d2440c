"""Permission groups and the levels users and groups hold on them.

Objects do not carry permissions themselves: each points at a
``PermissionGroup``, and objects in one container share the container's
group. That makes "what may this user see" a single indexed EXISTS on the
group instead of a walk through containers.
"""

from __future__ import annotations

from enum import IntEnum

from django.conf import settings
from django.db import models

#: The user anonymous requests act as (Resolwe's ``ANONYMOUS_USER_NAME``).
PUBLIC_USERNAME = "public"


class Permission(IntEnum):
    """Linear levels: a higher level includes every lower one."""

    NONE = 0
    VIEW = 1
    EDIT = 2
    SHARE = 4
    OWNER = 8

    @classmethod
    def from_name(cls, name: str) -> Permission:
        """``"edit"`` → ``Permission.EDIT``; raises ``KeyError`` for unknown names."""
        return cls[name.upper()]

    def names(self) -> list[str]:
        """The included levels, ascending, without ``none`` (resdk reads the last one as the highest)."""
        return [level.name.lower() for level in Permission if Permission.NONE < level <= self]


class PermissionGroup(models.Model):
    """What a container and everything inside it share."""

    class Meta:
        db_table = "permissions_permissiongroup"


class PermissionObject(models.Model):
    """An object with per-object permissions (Resolwe's ``PermissionObject``): those of its ``permission_group``.

    The group is null until the object is placed (``services.on_created``);
    deleting a group leaves its objects without permissions instead of
    deleting them, and a group is never asked for its objects (``related_name="+"``).
    """

    permission_group = models.ForeignKey(
        PermissionGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True


class PermissionModel(models.Model):
    """One level held by one user or one Django group on one permission group."""

    value = models.PositiveSmallIntegerField()
    permission_group = models.ForeignKey(PermissionGroup, on_delete=models.CASCADE, related_name="permissions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["permission_group", "user"], condition=models.Q(user__isnull=False), name="permission_user"
            ),
            models.UniqueConstraint(
                fields=["permission_group", "group"], condition=models.Q(group__isnull=False), name="permission_group"
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) ^ models.Q(group__isnull=True), name="permission_user_xor_group"
            ),
        ]
        indexes = [
            # The visibility EXISTS probes by holder first, then matches the outer object's group.
            models.Index(fields=["user", "permission_group", "value"], name="permission_by_user"),
            models.Index(fields=["group", "permission_group", "value"], name="permission_by_group"),
        ]

    def __str__(self) -> str:
        holder = f"user {self.user_id}" if self.user_id else f"group {self.group_id}"
        return f"{holder}: {Permission(self.value).name} on group {self.permission_group_id}"
