"""Where a new Data object's files and URLs may come from: the rules Data creation enforces.

A ``basic:file:`` input names its bytes with ``file_temp``, which a program
then reads on the server's side of the network, with the server's access:

* an upload handle must be a token this server could have issued. Whether
  it is the contributor's own, complete upload (or a file one of their
  programs exported for a spawned child) is checked when the flow run stages
  it (``execution.run.staging``): Resolwe accepts any handle at creation and
  fails the run, and a refusal at creation would tell whether another user's
  handle exists;
* a URL must pass ``core.url_policy`` (http/https/ftp, public hosts unless
  ``FLOW_IMPORT_ALLOW_PRIVATE_URLS``);
* a direct upload (``s3://<bucket>/<user id>/<name>``, as resdk gives it when the site offers
  uploads to S3; refused as an unknown scheme otherwise) is checked like an upload handle, when the flow run fetches it: the bucket must
  be the upload connector's and the prefix the contributor's own;
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

S3_SCHEME = "s3://"
S3_URL_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,62}/[^\x00]+$")


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
    if file_temp.startswith(S3_SCHEME) and direct_uploads_offered():
        return None if S3_URL_RE.match(file_temp) else f"file_temp {file_temp[:200]!r} is not an s3://bucket/key URL."
    if looks_like_url(file_temp) or ":" in file_temp:
        try:
            check_url(file_temp, allow_private=allow_private_urls())
        except URLRefused as error:
            return f"file_temp URL {file_temp[:200]!r} is refused: {error}"
        return None
    return _handle_reason(file_temp, owner_id)


def direct_uploads_offered() -> bool:
    """Whether the site offers uploads straight to object storage (Resolwe's ``FLOW_STORAGE["upload"]``)."""
    return bool(((getattr(settings, "FLOW_STORAGE", None) or {}).get("upload") or {}).get("connectors"))


def allow_private_urls() -> bool:
    return bool(getattr(settings, "FLOW_IMPORT_ALLOW_PRIVATE_URLS", False))


def _handle_reason(handle: str, owner_id: int) -> str | None:
    try:
        upload_path(handle)
    except InvalidHandle:
        return f"Upload {handle[:200]!r} does not exist."
    return None


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
