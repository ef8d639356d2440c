"""``/upload/`` (resdk's chunked upload) and the upload configuration endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from resolwe_prefect.api.parsers import FormParser

from .chunks import Chunk, parse_chunk
from .models import Upload
from .storage import UploadLost, append_chunk, finish, holds, make_handle

#: Who offers direct uploads (the storage framework registers S3): ``user -> {"type", "config"} or None``.
UPLOAD_CONFIG_PROVIDERS: list[Callable[[Any], dict[str, Any] | None]] = []
#: Resolwe's ``/api/upload/credentials``: ``user -> credentials or None``.
UPLOAD_CREDENTIALS_PROVIDERS: list[Callable[[Any], dict[str, Any] | None]] = []

#: Used when the site sets no ``FLOW_UPLOAD_MAX_SIZE``: 1 TiB.
DEFAULT_MAX_SIZE = 1 << 40


def max_upload_size() -> int:
    return int(getattr(settings, "FLOW_UPLOAD_MAX_SIZE", DEFAULT_MAX_SIZE))


class UploadView(APIView):
    """Chunked multipart upload (contract §1.5).

    Each chunk is a POST with the ``file`` part and ``_chunkNumber``,
    ``_chunkSize``, ``_currentChunkSize`` and ``_totalSize``; ``Session-Id``
    and ``X-File-Uid`` headers tie the chunks of one file together. Every
    response names the handle; resdk reads it from the last one.

    Chunks must arrive in order, each starting exactly where the file ends,
    so the file never has gaps or overlaps, and the upload completes only
    when exactly ``_totalSize`` bytes are there. resdk retries a chunk that
    got no 2xx, even when the server stored it before the answer was lost:
    the same bytes sent again for the end of the file are accepted without
    writing anything. The handle belongs to the uploader (``Upload.owner``).
    """

    schema = None  # multipart chunk protocol, not a REST resource
    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["No file part named 'file'."]})
        chunk = parse_chunk(request.data, upload.size, max_upload_size())  # a ChunkError answers for itself
        handle = make_handle(request.user.pk, request.headers.get("Session-Id"), request.headers.get("X-File-Uid"))
        with transaction.atomic():
            record = Upload.objects.select_for_update().filter(handle=handle).first()
            if record is None:  # saved only once its first chunk is: a refused chunk leaves nothing behind
                record = Upload(handle=handle, owner=request.user, name=upload.name[:255], total_size=chunk.total)
            error = _refusal(record, chunk, upload, request.user)
            if error is not None:
                return error
            if chunk.offset == record.size and record.completed is None:
                error = _store(record, chunk, upload)
            if error is not None:
                return error
        return Response({"files": [{"name": upload.name, "size": record.total_size, "temp": handle}]})


def _refusal(record: Upload, chunk: Chunk, upload, user) -> Response | None:
    """Why this chunk does not fit what the upload received so far, as a response; ``None`` if it fits."""
    if record.owner_id != user.pk:
        return Response({"detail": "This upload belongs to another user."}, status=status.HTTP_403_FORBIDDEN)
    if record.total_size != chunk.total:
        message = f"The upload started with _totalSize {record.total_size}, not {chunk.total}."
        return Response({"_totalSize": [message]}, status=status.HTTP_400_BAD_REQUEST)
    if chunk.offset == record.size and record.completed is None:
        return None
    if chunk.offset <= record.size and chunk.end == record.size:
        if holds(record.handle, upload, chunk.offset, record.completed is not None):
            return None  # a retry of the chunk that was stored last
    expected = "no more chunks: it is complete" if record.completed else f"chunk {record.size // chunk.size}"
    message = f"The upload has received {record.size} bytes and expects {expected}; got chunk {chunk.number}."
    return Response({"_chunkNumber": [message]}, status=status.HTTP_400_BAD_REQUEST)


def _store(record: Upload, chunk: Chunk, upload) -> Response | None:
    """Append the chunk and move the file into place once exactly ``total_size`` bytes are there."""
    try:
        written = append_chunk(record.handle, upload, chunk.offset)
    except UploadLost:
        record.size = 0
        record.save(update_fields=["size", "modified"])
        message = "The bytes received so far are gone; send the file again from chunk 0."
        return Response({"_chunkNumber": [message]}, status=status.HTTP_409_CONFLICT)
    record.size = chunk.offset + written
    if record.size == record.total_size:
        finish(record.handle)
        record.completed = timezone.now()
    record.save()
    return None


@extend_schema(responses=OpenApiTypes.OBJECT, operation_id="upload_config")
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def upload_config(request: Request) -> Response:
    """``S3`` with credentials for the user's own prefix when a site offers direct uploads, else ``LOCAL``."""
    for provider in UPLOAD_CONFIG_PROVIDERS:
        answer = provider(request.user)
        if answer is not None:
            return Response(answer)
    return Response({"type": "LOCAL", "config": {}})


@extend_schema(responses=OpenApiTypes.OBJECT, operation_id="upload_credentials")
@api_view(["GET"])
@permission_classes([permissions.IsAuthenticated])
def upload_credentials(request: Request) -> Response:
    """Fresh credentials for a direct upload (S3 only), as Resolwe's ``/api/upload/credentials``."""
    for provider in UPLOAD_CREDENTIALS_PROVIDERS:
        answer = provider(request.user)
        if answer is not None:
            return Response(answer)
    return Response({"detail": "Direct uploads are not configured: upload through /upload/."}, status=400)
