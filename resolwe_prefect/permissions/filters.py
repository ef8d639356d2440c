"""Resolwe's user and permission filters for Collection, Entity and Data lists.

``owners``, ``owners_name``, ``shared_with_me``, ``group`` and ``permission``;
each is one EXISTS on the object's permission group.
"""

from __future__ import annotations

import django_filters as filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_filters.rest_framework import FilterSet

from . import services
from .models import Permission, PermissionModel


def _rows() -> QuerySet:
    return PermissionModel.objects.filter(permission_group=OuterRef("permission_group"))


class PermissionFilterMixin(FilterSet):
    """Mixed into a FilterSet whose model has ``permission_group``."""

    owners = filters.NumberFilter(method="filter_owners")
    owners_name = filters.CharFilter(method="filter_owners_name")
    shared_with_me = filters.BooleanFilter(method="filter_shared_with_me")
    group = filters.NumberFilter(method="filter_group")
    permission = filters.CharFilter(method="filter_permission")

    def filter_owners(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """Objects the given user owns explicitly (a superuser is treated as anyone else)."""
        return queryset.filter(Exists(_rows().filter(user_id=value, value__gte=Permission.OWNER)))

    def filter_owners_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Every word must match an owner's first name, last name or username."""
        rows = _rows().filter(user__isnull=False, value__gte=Permission.OWNER)
        for word in (value or "").split():
            rows = rows.filter(
                Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
                | Q(user__username__icontains=word)
            )  # fmt: skip
        return queryset.filter(Exists(rows))

    def filter_shared_with_me(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        """Objects others shared with the caller or the caller's groups (public ones excluded)."""
        if not value:
            return queryset
        user = self.request.user
        if not user.is_authenticated:
            return queryset.none()
        rows = _rows().filter(Q(user_id=user.pk) | Q(group_id__in=user.groups.values("pk")), value__gt=0)
        return queryset.filter(Exists(rows)).exclude(contributor=user)

    def filter_group(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """Objects the given Django group holds a level on."""
        return queryset.filter(Exists(_rows().filter(group_id=value, value__gt=0)))

    def filter_permission(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Objects on which the caller holds at least ``view|edit|share|owner``."""
        try:
            level = Permission.from_name(value)
        except KeyError:
            return queryset.none()
        return services.filter_for_user(queryset, self.request.user, level)
