"""``POST /resolve_uris/``: turn ``<data_id>/<path>`` URIs into self-authorising download URLs.

resdk's tables (``resdk.tables``) resolve the files they read this way and
then fetch the URLs with aiohttp, *without* the session cookies. In Resolwe
the storage connector answers with presigned URLs; here a URL carries a
``django.core.signing`` signature of ``<data_id>/<path>`` with a timestamp,
checked by :class:`SignedDownloadView` at ``/signed-data/<id>/<path>``. A
signature is only issued to a caller who can view the Data at that moment,
and it expires after :func:`max_age` seconds.

URIs the caller cannot resolve (malformed, no such Data, no VIEW, no such
file) map to ``""``, as in Resolwe, so one bad URI does not fail the batch.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from resolwe_prefect.permissions import services as permission_services
from resolwe_prefect.runtime import safepath

from .browse import FILE_ELSEWHERE, file_download, open_data_file, resolve_data_path, response_from_elsewhere
from .layout import data_dir
from .models import Data

SALT = "resolwe_prefect.data.uris"
_URI_RE = re.compile(r"^(?P<data_id>\d+)/(?P<path>.+)$")


def max_age() -> int:
    """Seconds a signed URL stays valid (``RESOLWE_PREFECT_SIGNED_URL_MAX_AGE``, default one hour)."""
    return int(getattr(settings, "RESOLWE_PREFECT_SIGNED_URL_MAX_AGE", 3600))


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def sign(data_id: int, path: str) -> str:
    """The ``signature`` query value for ``<data_id>/<path>`` (timestamp and MAC, not the value)."""
    value = f"{data_id}/{path}"
    return _signer().sign(value)[len(value) + 1 :]


def verify(data_id: int, path: str, signature: str) -> bool:
    """Whether ``signature`` was issued for exactly this file and has not expired."""
    try:
        _signer().unsign(f"{data_id}/{path}:{signature}", max_age=max_age())
    except signing.BadSignature:  # SignatureExpired is a subclass
        return False
    return True


def _file_path(data_id: int, path: str) -> Path | None:
    """The regular file ``path`` of Data ``data_id`` inside its own directory, or ``None``.

    The browse view's guard, shared so both agree: traversal, links that
    leave ``<DATA_DIR>/<id>``, FIFOs, devices and sockets get no signature.
    """
    try:
        target = resolve_data_path(data_id, path)
    except PermissionDenied:
        return None
    if target is None or safepath.kind(data_dir(data_id), target) != safepath.FILE:
        return None
    return target


def signed_url(data_id: int, path: str) -> str:
    """A root-relative URL (resdk joins it to its base URL) that needs no session."""
    url = reverse("data-signed", kwargs={"data_id": data_id, "path": path})
    return f"{url}?{urlencode({'signature': sign(data_id, path)})}"


def resolve(uris: list[str], user) -> dict[str, str]:
    """``{uri: url | ""}`` for ``user``; one query decides which Data the caller can view."""
    parsed = {uri: _URI_RE.match(uri) for uri in uris}
    ids = {int(match["data_id"]) for match in parsed.values() if match}
    visible = set(
        permission_services.filter_for_user(Data.objects.filter(pk__in=ids), user).values_list("pk", flat=True)
    )
    result: dict[str, str] = {}
    for uri, match in parsed.items():
        result[uri] = ""
        if match and int(match["data_id"]) in visible:
            data_id, path = int(match["data_id"]), match["path"]
            if _file_path(data_id, path) is not None or any(exists(data_id, path) for exists in FILE_ELSEWHERE):
                result[uri] = signed_url(data_id, path)
    return result


class _CsrfExemptSessionAuthentication(SessionAuthentication):
    """Resolving only reads, and the answer is readable by the caller alone: no CSRF check (as in Resolwe)."""

    def enforce_csrf(self, request) -> None:
        return None


class ResolveUrisSerializer(serializers.Serializer):
    uris = serializers.ListField(child=serializers.CharField(allow_blank=True), allow_empty=True)


class ResolveUrisView(APIView):
    """``POST /resolve_uris/ {"uris": ["<data_id>/<path>", …]}`` → ``{uri: url | ""}``."""

    authentication_classes = [_CsrfExemptSessionAuthentication, BasicAuthentication]
    permission_classes = [permissions.AllowAny]  # anonymous callers resolve public Data

    @extend_schema(request=ResolveUrisSerializer, responses=OpenApiTypes.OBJECT, operation_id="resolve_uris")
    def post(self, request: Request) -> Response:
        body = ResolveUrisSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(resolve(body.validated_data["uris"], request.user))


class SignedDownloadView(APIView):
    """``GET /signed-data/<id>/<path>?signature=…``: the file, for whoever holds a valid signature."""

    schema = None  # raw bytes
    authentication_classes: list = []  # the signature is the credential
    permission_classes = [permissions.AllowAny]

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def get(self, request: Request, data_id: int, path: str) -> FileResponse:
        if not verify(int(data_id), path, request.query_params.get("signature", "")):
            raise PermissionDenied("Invalid or expired signature.")
        handle = open_data_file(int(data_id), path)
        if handle is None:
            elsewhere = response_from_elsewhere(request, int(data_id), path)
            if elsewhere is not None and not path.endswith("/"):
                return elsewhere
            raise Http404("File not found.")
        return file_download(request, handle, path.rstrip("/").rsplit("/", 1)[-1])
