"""``/data/<id>/<path>``: listings and downloads of one Data object's files.

The API runs as root and a Data directory holds whatever its program (or an
archive a user uploaded) put there: links to another object's files or to
server files, FIFOs, devices. So every path is resolved and must stay inside
THAT object's own directory (``<DATA_DIR>/<id>``); only regular files are
opened (never following a link or blocking on a FIFO, see
:mod:`resolwe_prefect.runtime.safepath`); listings leave out what cannot be
downloaded. Anything else is "not found", whether it is missing or leads
out, so links cannot probe which server files exist.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import BinaryIO

from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.views import APIView

from resolwe_prefect.permissions import services as permission_services
from resolwe_prefect.runtime import safepath

from .layout import data_dir
from .models import Data

__all__ = ["FILE_ELSEWHERE", "FILE_SOURCES", "DataBrowseView", "file_download", "open_data_file", "resolve_data_path"]

#: Where else a Data object's files may be when its directory does not have them (the storage
#: framework adds its object-storage copies): ``(request, data id, path) -> response or None``.
#: Permission is checked before any source is asked.
FILE_SOURCES: list[Callable[[Request, int, str], HttpResponse | None]] = []
#: Whether one of those places has the file ``(data id, path)`` (for signed URLs of files kept elsewhere).
FILE_ELSEWHERE: list[Callable[[int, str], bool]] = []


def resolve_data_path(data_id: int, subpath: str) -> Path | None:
    """Map ``/data/<id>/<subpath>`` to the resolved path inside ``<DATA_DIR>/<id>``, or ``None``.

    ``..``, backslashes and NUL are refused outright (403). A path that does
    not exist, or whose links lead anywhere outside the object's own
    directory (another object's directory included), is ``None``.
    """
    parts = [part for part in subpath.split("/") if part not in ("", ".")]
    if any(part == ".." or "\\" in part or "\x00" in part for part in parts):
        raise PermissionDenied("Invalid path.")
    root = data_dir(data_id)
    return safepath.contain(root, root.joinpath(*parts))


def open_data_file(data_id: int, subpath: str) -> BinaryIO | None:
    """The regular file ``subpath`` of Data ``data_id``, opened safely; ``None`` for anything else."""
    target = resolve_data_path(data_id, subpath)
    if target is None:
        return None
    try:
        return safepath.open_file(data_dir(data_id), target)
    except OSError:
        return None


def file_download(request: Request, handle: BinaryIO, name: str) -> FileResponse:
    """An opened Data file as raw bytes; ``?force_download=1`` asks the browser to save it."""
    force = request.query_params.get("force_download", "").lower() in ("1", "true")
    return FileResponse(handle, as_attachment=force, filename=name)


def _md5(handle: BinaryIO) -> str:
    digest = hashlib.md5()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _listing(root: Path, directory: Path) -> list[dict[str, object]]:
    """An nginx-autoindex-style listing with ``md5`` (resdk verifies downloads with it).

    Size and md5 come from the file as opened below ``root``; an entry that
    cannot be opened that way (it changed meanwhile) is left out.
    """
    entries: list[dict[str, object]] = []
    for entry in safepath.list_dir(root, directory):
        item: dict[str, object] = {"name": entry.name, "mtime": formatdate(entry.mtime, usegmt=True)}
        if entry.kind == safepath.DIR:
            item["type"] = "directory"
        else:
            try:
                with safepath.open_file(root, entry.path) as handle:
                    item.update(type="file", size=os.fstat(handle.fileno()).st_size, md5=_md5(handle))
            except OSError:
                continue
        entries.append(item)
    return entries


def response_from_elsewhere(request: Request, data_id: int, path: str) -> HttpResponse | None:
    """The first answer of :data:`FILE_SOURCES` for a file or directory the Data directory lacks."""
    for source in FILE_SOURCES:
        response = source(request, data_id, path)
        if response is not None:
            return response
    return None


class DataBrowseView(APIView):
    """Directory listings as JSON and file downloads for one Data object's files.

    A DRF view so that session and basic authentication both work; no access
    (no VIEW, which anonymous callers have only on public Data; unknown object)
    is 403, as in Resolwe; unknown paths, links leading out of the object's
    directory, FIFOs, devices and sockets are 404.
    """

    schema = None  # raw files and nginx-style listings, not a REST resource

    def perform_content_negotiation(self, request, force=False):
        # Downloads are raw bytes whatever the client accepts; JSON listings need no negotiation.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request: Request, data_id: int, path: str | None = None) -> object:
        path = path or ""
        if not permission_services.filter_for_user(Data.objects.filter(pk=data_id), request.user).exists():
            raise PermissionDenied("You do not have permission to access this data.")
        root = data_dir(data_id)
        target = resolve_data_path(data_id, path)
        if target is None or (not path.strip("/") and not any(root.iterdir())):
            response = response_from_elsewhere(request, int(data_id), path)
            if response is not None:
                return response
        if target is None and not path.strip("/"):
            return JsonResponse([], safe=False)  # nothing stored yet
        what = safepath.kind(root, target) if target is not None else None
        if target is None:
            raise Http404("File not found.")
        if what == safepath.DIR:
            try:
                return JsonResponse(_listing(root, target), safe=False)
            except OSError:
                raise Http404("File not found.") from None
        if what != safepath.FILE:
            raise Http404("File not found.")
        try:
            handle = safepath.open_file(root, target)
        except OSError:
            raise Http404("File not found.") from None
        return file_download(request, handle, path.rstrip("/").rsplit("/", 1)[-1])
