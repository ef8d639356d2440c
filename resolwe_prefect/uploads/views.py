"""``/upload/`` (resdk's chunked upload) and the upload configuration endpoints."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .storage import make_handle, write_chunk


def _int_field(request: Request, name: str) -> int | None:
    value = request.data.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise ParseError(f"Invalid value for {name}: {value!r}.") from error


class UploadView(APIView):
    """Chunked multipart upload (contract §1.5).

    Each chunk is a POST with the ``file`` part and ``_chunkNumber``,
    ``_chunkSize``, ``_currentChunkSize`` and ``_totalSize``; ``Session-Id``
    and ``X-File-Uid`` headers tie the chunks of one file together. Every
    response names the handle; resdk reads it from the last one.
    """

    schema = None  # multipart chunk protocol, not a REST resource
    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ParseError("No file part named 'file'.")
        chunk_number = _int_field(request, "_chunkNumber") or 0
        chunk_size = _int_field(request, "_chunkSize") or 0
        total_size = _int_field(request, "_totalSize")
        handle = make_handle(request.user.pk, request.headers.get("Session-Id"), request.headers.get("X-File-Uid"))
        write_chunk(handle, upload, chunk_number * chunk_size, total_size)
        size = total_size if total_size is not None else upload.size
        return Response({"files": [{"name": upload.name, "size": size, "temp": handle}]})


@extend_schema(responses=OpenApiTypes.OBJECT, operation_id="upload_config")
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def upload_config(request: Request) -> Response:
    """Uploads go to this server (``LOCAL``); resdk falls back to that anyway, but logs a trace."""
    return Response({"type": "LOCAL", "config": {}})
