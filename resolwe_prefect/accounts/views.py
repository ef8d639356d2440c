"""Login for resdk, ``/api/user`` (read, PATCH self) and ``/api/group`` (read, membership actions)."""

from __future__ import annotations

import json
import math

import django_filters as filters
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth.models import Group
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from resolwe_prefect.api.filters import NUMBER_LOOKUPS, StrictFilterSet
from resolwe_prefect.api.parsers import find_problem
from resolwe_prefect.api.views import UnchangedPatchMixin
from resolwe_prefect.permissions.api import ResolwePermissions
from resolwe_prefect.permissions.models import PUBLIC_USERNAME
from resolwe_prefect.permissions.views import ResolweViewSetMixin

from .permissions import SelfOrStaff, can_manage_members, is_staff
from .serializers import GroupSerializer, UserIdsSerializer, UserSerializer
from .throttling import blocked_message, login_blocked, login_failed

User = get_user_model()


def _credentials(request: HttpRequest) -> tuple[str, str]:
    """Read ``email`` or ``username`` and ``password`` from a form or a JSON body.

    A body that is not a JSON object, or text no database can store, reads
    as no credentials at all: a failed login, not a 500.
    """
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):
            body = {}
        body = body if isinstance(body, dict) else {}
    else:
        body = request.POST
    identifier, password = body.get("email") or body.get("username") or "", body.get("password") or ""
    if not isinstance(identifier, str) or not isinstance(password, str) or find_problem([identifier, password]):
        return "", ""
    return identifier, password


@csrf_exempt
@require_POST
def api_login(request: HttpRequest) -> JsonResponse:
    """``/saml-auth/api-login/`` and ``/rest-auth/login/``: a Django session for resdk.

    resdk sends its user name in ``email``, so both e-mail and user name are
    accepted. Success must set both ``sessionid`` and ``csrftoken``; resdk
    keeps only those two cookies and sends the token back as ``X-CSRFToken``.
    Failures are counted per identifier and per client (``throttling``);
    past the limit the answer is 429 without looking at the password.
    """
    try:
        identifier, password = _credentials(request)
    except RequestDataTooBig:
        return JsonResponse({"detail": "Request body is too large."}, status=413)
    except SuspiciousOperation:
        return JsonResponse({"detail": "Bad request."}, status=400)
    wait = login_blocked(request, identifier)
    if wait is not None:
        return JsonResponse(
            {"detail": blocked_message(wait)}, status=429, headers={"Retry-After": str(math.ceil(wait))}
        )
    user = authenticate(request, username=identifier, password=password) if identifier else None
    if user is None and "@" in identifier:
        match = User.objects.filter(email__iexact=identifier).order_by("id").first()
        if match is not None:
            user = authenticate(request, username=match.get_username(), password=password)
    if user is None:
        login_failed(request, identifier)
        return JsonResponse({"non_field_errors": ["Unable to log in with provided credentials."]}, status=400)
    login(request, user)
    get_token(request)  # makes the CSRF middleware set the csrftoken cookie on this response
    return JsonResponse({"id": user.pk, "username": user.get_username(), "email": user.email})


class UserFilter(StrictFilterSet):
    """``current_only=True`` narrows the list to the caller (resdk's "who am I").

    E-mails are not shown to other users, so for non-staff callers
    ``email__icontains`` only searches their own: otherwise it would spell
    out anyone's address a letter at a time. An exact ``email`` still finds
    its user, as sharing by e-mail does.
    """

    current_only = filters.BooleanFilter(method="filter_current_only")
    groups = filters.NumberFilter(field_name="groups")
    email__icontains = filters.CharFilter(method="filter_email_icontains")

    class Meta:
        model = User
        fields = {
            "id": NUMBER_LOOKUPS,
            "username": ["exact", "iexact", "icontains"],
            "email": ["exact", "iexact"],
            "first_name": ["exact", "icontains"],
            "last_name": ["exact", "icontains"],
        }

    def filter_email_icontains(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        queryset = queryset.filter(email__icontains=value)
        return queryset if is_staff(self.request.user) else queryset.filter(pk=self.request.user.pk)

    def filter_current_only(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return queryset
        user = self.request.user
        return queryset.filter(pk=user.pk) if user.is_authenticated else queryset.none()


class UserViewSet(
    ResolweViewSetMixin,
    UnchangedPatchMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Users, for logged-in callers only; ``PATCH /api/user/<id>`` changes names and e-mail."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_class = UserFilter
    permission_classes = [ResolwePermissions, SelfOrStaff]
    http_method_names = ["get", "patch", "head", "options"]
    ordering_fields = ["id", "username", "first_name", "last_name"]
    ordering = ["id"]


class GroupFilter(StrictFilterSet):
    class Meta:
        model = Group
        fields = {"id": NUMBER_LOOKUPS, "name": ["exact", "iexact", "icontains", "in"]}


class GroupViewSet(ResolweViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Groups, readable by logged-in callers; members and staff manage membership."""

    queryset = Group.objects.all()
    serializer_class = GroupSerializer
    filterset_class = GroupFilter
    ordering_fields = ["id", "name"]
    ordering = ["id"]

    def _members_request(self, request: Request) -> tuple[Group, list]:
        """The group (404 if invisible, 403 if the caller may not manage it) and the named users."""
        group = self.get_object()
        if not can_manage_members(request.user, group):
            raise PermissionDenied("Only staff and the group's members can change its members.")
        body = UserIdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = set(body.validated_data["user_ids"])
        users = list(User.objects.filter(pk__in=ids).exclude(username=PUBLIC_USERNAME))
        missing = sorted(ids - {user.pk for user in users})
        if missing:
            raise ValidationError({"user_ids": [f"Unknown user(s): {', '.join(map(str, missing))}."]})
        return group, users

    @extend_schema(request=UserIdsSerializer, responses=GroupSerializer)
    @action(detail=True, methods=["post"], url_path="add_users", url_name="add-users")
    def add_users(self, request: Request, pk=None) -> Response:
        """``{"user_ids": [...]}``: the users join the group and receive its grants."""
        group, users = self._members_request(request)
        with transaction.atomic():
            group.user_set.add(*users)
        return Response(GroupSerializer(group).data)

    @extend_schema(request=UserIdsSerializer, responses=GroupSerializer)
    @action(detail=True, methods=["post"], url_path="remove_users", url_name="remove-users")
    def remove_users(self, request: Request, pk=None) -> Response:
        """``{"user_ids": [...]}``: the users leave the group; users not in it are ignored."""
        group, users = self._members_request(request)
        with transaction.atomic():
            group.user_set.remove(*users)
        return Response(GroupSerializer(group).data)
