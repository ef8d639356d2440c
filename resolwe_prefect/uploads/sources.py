"""Where a new Data object's files and URLs may come from: the rules Data creation enforces.

A ``basic:file:`` input names its bytes with ``file_temp``, which a program
then reads on the server's side of the network, with the server's access:

* an upload handle must be one issued to the Data object's contributor
  (``Upload.owner``) and complete, or a file a program of theirs exported
  for a spawned child (``export-<data id>-<hex>``, handed out by the
  execution layer with ``re-export``). Handles appear in the inputs of
  shared Data objects, so without this anyone they were shared with could
  read the file again under their own name;
* a URL must pass ``core.url_policy`` (http/https/ftp, public hosts unless
  ``FLOW_IMPORT_ALLOW_PRIVATE_URLS``);
* a local path (``/...`` or ``file://...``) must lie inside one of the
  ``FLOW_LOCAL_IMPORT_ROOTS`` (the execution layer checks again, following
  symlinks, when it stages the file).

``basic:url:download:`` values are fetched by programs, so they follow the
URL rule too. ``basic:url:view:`` and ``basic:url:link:`` are only shown to
people, never fetched by the server: they keep the scheme and syntax rules
(no ``javascript:``, ``file:`` or ``data:`` links) but may point at
intranet hosts.
"""

from __future__ import annotations

import os
import re

from django.conf import settings

from resolwe_prefect.core.url_policy import URLRefused, check_url, looks_like_url, url_host

from .storage import InvalidHandle, upload_path

EXPORT_HANDLE_RE = re.compile(r"^export-([0-9]{1,19})-[0-9a-f]{32}$")


def check_source(type_: str, value: dict, owner_id: int) -> str | None:
    """Why ``value`` of a field of type ``type_`` may not be read for user ``owner_id``; ``None`` if it may."""
    if type_.startswith("basic:url:"):
        url = value.get("url", "")
        try:
            if type_ == "basic:url:download:":
                check_url(url, allow_private=allow_private_urls())
            else:
                url_host(url)
        except URLRefused as error:
            return f"URL {url[:200]!r} is refused: {error}"
        return None
    file_temp = value.get("file_temp")
    if file_temp is None:
        return None
    if file_temp.startswith(("/", "file://")):
        return _local_path_reason(file_temp)
    if looks_like_url(file_temp) or ":" in file_temp:
        try:
            check_url(file_temp, allow_private=allow_private_urls())
        except URLRefused as error:
            return f"file_temp URL {file_temp[:200]!r} is refused: {error}"
        return None
    return _handle_reason(file_temp, owner_id)


def allow_private_urls() -> bool:
    return bool(getattr(settings, "FLOW_IMPORT_ALLOW_PRIVATE_URLS", False))


def owns_handle(handle: str, owner_id: int) -> bool:
    """Whether ``handle`` is a complete upload of ``owner_id`` or a file exported by one of their Data objects."""
    from resolwe_prefect.data.models import Data

    from .models import Upload

    if Upload.objects.filter(handle=handle, owner_id=owner_id, completed__isnull=False).exists():
        return True
    exported = EXPORT_HANDLE_RE.match(handle)
    return bool(exported) and Data.objects.filter(pk=int(exported[1]), contributor_id=owner_id).exists()


def _handle_reason(handle: str, owner_id: int) -> str | None:
    from .models import Upload

    try:
        upload_path(handle)
    except InvalidHandle:
        return f"Upload {handle[:200]!r} does not exist."
    if owns_handle(handle, owner_id):
        return None
    pending = Upload.objects.filter(handle=handle, owner_id=owner_id).values_list("size", "total_size").first()
    if pending is not None:
        return f"Upload {handle!r} is not complete ({pending[0]} of {pending[1]} bytes received)."
    # Another user's handle is reported exactly like an unknown one, so that its existence does not leak.
    return f"Upload {handle!r} does not exist."


def _local_path_reason(file_temp: str) -> str | None:
    try:
        path = os.path.realpath(file_temp.removeprefix("file://"))
        roots = [os.path.realpath(root) for root in settings.FLOW_LOCAL_IMPORT_ROOTS]
        inside = any(os.path.commonpath([path, root]) == root for root in roots)
    except ValueError:  # a NUL byte, or nothing in common
        inside = False
    if inside:
        return None
    return f"Local path {file_temp[:200]!r} is not inside an import root (RESOLWE_PREFECT_IMPORT_ROOTS)."
