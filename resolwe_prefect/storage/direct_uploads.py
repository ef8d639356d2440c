"""Uploads straight to S3, as Resolwe's ``upload_config`` offers them to resdk.

A site names the connector in Resolwe's ``FLOW_STORAGE = {"upload": {"connectors": ["S3"]}}``.
A signed-in user then gets short-lived credentials that may only put objects under their own
prefix (their user id); resdk uploads there and gives ``file_temp = "s3://<bucket>/<id>/<uuid>"``.
The flow run fetches such a file onto its host only when the bucket is the upload connector's
and the prefix is the Data object's contributor's: anything else reads as a missing upload, as a
foreign upload handle does.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from resolwe_prefect.storage import config
from resolwe_prefect.storage.connectors import ConnectorError, StorageConnector

logger = logging.getLogger(__name__)

S3_URL_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,62})/(?P<key>[^\x00]+)$")


def upload_connector() -> StorageConnector | None:
    """The first connector of ``FLOW_STORAGE["upload"]`` that can issue upload credentials."""
    names = ((getattr(settings, "FLOW_STORAGE", None) or {}).get("upload") or {}).get("connectors") or []
    for name in names:
        found = config.connectors().get(name)
        if found is not None and hasattr(found, "temporary_credentials"):
            return found
    return None


def upload_config(user: Any) -> dict[str, Any] | None:
    """``{"type": "S3", "config": ...}`` for a signed-in user when direct uploads are configured."""
    connector = upload_connector()
    if connector is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return {"type": "S3", "config": connector.temporary_credentials(str(user.pk))}  # type: ignore[attr-defined]
    except ConnectorError:
        logger.exception("Could not issue upload credentials; uploads go through the server.")
        return None


def upload_credentials(user: Any) -> dict[str, Any] | None:
    """Resolwe's ``/api/upload/credentials``: the credentials alone, ``SessionToken`` named ``Token``."""
    answer = upload_config(user)
    if answer is None:
        return None
    credentials = dict(answer["config"]["credentials"])
    credentials["Token"] = credentials.pop("SessionToken")
    return credentials


def fetch_upload(file_temp: str, owner_id: int, directory: Path) -> Path:
    """Download the direct upload ``file_temp`` of user ``owner_id`` into ``directory``; its path."""
    match = S3_URL_RE.match(file_temp)
    connector = upload_connector()
    key = match["key"] if match else ""
    parts = key.split("/")
    if (
        match is None
        or connector is None
        or match["bucket"] != getattr(connector, "bucket", None)
        or len(parts) < 2
        or parts[0] != str(owner_id)
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise FileNotFoundError(f"Uploaded file {file_temp!r} does not exist.")
    target = Path(directory) / parts[-1]
    try:
        connector.get(key, target)
    except (ConnectorError, ValueError) as error:
        raise FileNotFoundError(f"Uploaded file {file_temp!r} does not exist.") from error
    return target
