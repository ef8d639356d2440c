"""Serving a Data object's files from object storage when its local copy is gone.

Registered with ``data.browse.FILE_SOURCES`` (the browse view checks permission first): a file is
a redirect to a presigned URL of the best copy (S3, GCS that can sign), or streamed through the
server when the store cannot presign; a directory is listed from the recorded paths, with the
recorded size and md5, as the local listing gives them.
"""

from __future__ import annotations

from email.utils import format_datetime

from django.http import FileResponse, HttpResponse, HttpResponseRedirect, JsonResponse
from rest_framework.request import Request

from resolwe_prefect.storage import config
from resolwe_prefect.storage.connectors import ConnectorError
from resolwe_prefect.storage.models import StorageLocation
from resolwe_prefect.storage.transfer import remote_location


def _listing(location: StorageLocation, prefix: str) -> list[dict[str, object]] | None:
    mtime = format_datetime(location.last_update, usegmt=True)
    entries: dict[str, dict[str, object]] = {}
    for path, size, md5 in location.files.values_list("path", "size", "md5"):
        if not path.startswith(prefix):
            continue
        head, _, rest = path[len(prefix) :].partition("/")
        if rest:
            entries.setdefault(head, {"name": head, "mtime": mtime, "type": "directory"})
        else:
            entries[head] = {"name": head, "mtime": mtime, "type": "file", "size": size, "md5": md5}
    return [entries[name] for name in sorted(entries)] if entries or not prefix else None


def _relative(path: str) -> str:
    return "/".join(part for part in path.split("/") if part not in ("", "."))


def remote_response(request: Request, data_id: int, path: str) -> HttpResponse | None:
    """The file or listing ``path`` of Data ``data_id`` from its best remote copy; ``None`` if it has none."""
    location = remote_location(data_id)
    if location is None:
        return None
    relative = _relative(path)
    if location.files.filter(path=relative).exists():
        connector = config.connector(location.connector_name)
        key = location.key(relative)
        force = request.query_params.get("force_download", "").lower() in ("1", "true")
        try:
            url = connector.presigned_url(key, force_download=force)
            if url is not None:
                return HttpResponseRedirect(url)
            return FileResponse(connector.open_stream(key), as_attachment=force, filename=relative.rsplit("/", 1)[-1])
        except ConnectorError:
            return HttpResponse("The file's storage cannot be reached.", status=503)
    listing = _listing(location, f"{relative}/" if relative else "")
    return JsonResponse(listing, safe=False) if listing is not None else None


def remote_file_exists(data_id: int, path: str) -> bool:
    """Whether Data ``data_id``'s only copies are remote and one of them has the file ``path``."""
    location = remote_location(data_id)
    return location is not None and location.files.filter(path=_relative(path)).exists()


def connect() -> None:
    from resolwe_prefect.data.browse import FILE_ELSEWHERE, FILE_SOURCES

    if remote_response not in FILE_SOURCES:
        FILE_SOURCES.append(remote_response)
    if remote_file_exists not in FILE_ELSEWHERE:
        FILE_ELSEWHERE.append(remote_file_exists)
