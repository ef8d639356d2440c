"""Who may change a user or a group's membership (not per-object permissions: these are identities).

* ``PATCH /api/user/<id>``: the user themself, or staff (superusers included).
* ``POST /api/group/<id>/add_users|remove_users``: staff, or members of that
  group. This follows the Genialis platform, where a lab's members manage
  their own group; nobody else may change who receives the group's grants.
"""

from __future__ import annotations

from rest_framework import permissions


def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


class SelfOrStaff(permissions.BasePermission):
    """Reads for any logged-in caller (narrowed by the queryset); writes on oneself or as staff."""

    message = "You can only change your own user."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return is_staff(request.user) or obj.pk == request.user.pk


def can_manage_members(user, group) -> bool:
    return is_staff(user) or (user.is_authenticated and user.groups.filter(pk=group.pk).exists())
