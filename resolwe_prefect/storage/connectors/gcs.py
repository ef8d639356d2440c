"""A Google Cloud Storage bucket through prefect-gcp (or a GCS emulator).

Config (Resolwe's keys): ``bucket`` (required), ``credentials`` (a service-account JSON file).
Ours: ``credentials_block`` (a saved ``prefect_gcp.GcpCredentials`` used instead of the file),
``endpoint_url`` (else the environment's ``STORAGE_EMULATOR_HOST``), ``project``,
``connect_timeout`` / ``read_timeout`` (seconds) and ``retry_timeout`` (seconds spent retrying
one request). Without credentials, an endpoint is taken for an emulator and used anonymously;
without either, Google's application default credentials apply.

GCS computes ``md5`` and ``crc32c`` of every object it stores (a composed object has only the
latter); :meth:`GoogleConnector.get_hashes` reports them as hex, as ``hashing`` records them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import logging
import mimetypes
import os
from pathlib import Path
from typing import Any, BinaryIO

import google.api_core.exceptions
import google.auth.exceptions
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials, Signing
from google.cloud.storage import Blob, Bucket, Client
from google.cloud.storage.exceptions import DataCorruption, InvalidResponse
from google.cloud.storage.retry import DEFAULT_RETRY

from resolwe_prefect.storage.connectors.base import (
    ConnectorError,
    LazyClient,
    StorageConnector,
    attachment_disposition,
    buffered,
    key_prefix,
    validate_key,
)

logger = logging.getLogger(__name__)

ERRORS = (
    google.api_core.exceptions.GoogleAPIError,
    google.auth.exceptions.GoogleAuthError,
    InvalidResponse,
    DataCorruption,
    OSError,  # requests' connection errors, and the local file
)
#: The project of a client when none is configured or known: operations on a bucket do not use it,
#: and without one the client would look for it in the environment (the GCE metadata server).
PLACEHOLDER_PROJECT = "resolwe"


class GoogleConnector(StorageConnector):
    """Resolwe's ``GoogleConnector``."""

    REQUIRED_CONFIG = ("bucket",)

    def __init__(self, config: dict, name: str):
        super().__init__(config, name)
        self.bucket_name = str(self.config["bucket"])
        self.timeout = (float(self.config.get("connect_timeout", 5)), float(self.config.get("read_timeout", 60)))
        self.retry: Retry = DEFAULT_RETRY.with_timeout(float(self.config.get("retry_timeout", 20)))
        self._signer: Signing | None = None
        self._client: LazyClient[Any] = LazyClient(self._make_client, f"storage connector {name!r}")

    @property
    def client(self) -> Client:
        return self._client.get()

    @property
    def bucket(self) -> Bucket:
        return self.client.bucket(self.bucket_name)

    @property
    def endpoint_url(self) -> str | None:
        endpoint = self.config.get("endpoint_url") or os.environ.get("STORAGE_EMULATOR_HOST") or None
        if endpoint and "://" not in endpoint:  # STORAGE_EMULATOR_HOST is often "host:port"
            endpoint = f"http://{endpoint}"
        return endpoint.rstrip("/") if endpoint else None

    def _make_client(self) -> Client:
        """The storage client; credentials that can sign are kept for presigned URLs."""
        endpoint = self.endpoint_url
        block_name, credentials_file = self.config.get("credentials_block"), self.config.get("credentials")
        if not block_name and not credentials_file and endpoint:
            project = self.config.get("project") or PLACEHOLDER_PROJECT
            options = {"api_endpoint": endpoint}
            return Client(project=project, credentials=AnonymousCredentials(), client_options=options)

        # Imported here: prefect-gcp imports Prefect, seconds a site without GCS need not spend.
        from prefect_gcp import GcpCredentials

        if block_name:
            gcp = GcpCredentials.load(block_name, _sync=True)
            if not isinstance(gcp, GcpCredentials):
                raise ConnectorError(f"Storage connector {self.name!r}: block {block_name!r} is not GcpCredentials.")
        elif credentials_file:
            gcp = GcpCredentials(service_account_file=credentials_file, project=self.config.get("project"))
        else:
            gcp = GcpCredentials(project=self.config.get("project"))
        project = self.config.get("project") or gcp.project or PLACEHOLDER_PROJECT
        credentials = gcp.get_credentials_from_service_account()
        self._signer = credentials if isinstance(credentials, Signing) else None
        if endpoint:
            return Client(project=project, credentials=credentials, client_options={"api_endpoint": endpoint})
        return gcp.get_cloud_storage_client(project=project)

    def _errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        return self._failing(action, ERRORS)

    def _calls(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "retry": self.retry}

    def push(self, source: Path, key: str) -> None:
        validate_key(key)
        with self._errors(f"store {key}"):
            blob = self.bucket.blob(key)
            blob.upload_from_filename(str(source), content_type=mimetypes.guess_type(key)[0], **self._calls())

    def get(self, key: str, destination: Path) -> None:
        validate_key(key)
        with self._errors(f"read {key}"):
            destination.parent.mkdir(parents=True, exist_ok=True)
            self.bucket.blob(key).download_to_filename(str(destination), **self._calls())

    def open_stream(self, key: str) -> BinaryIO:
        """The object read in ranges as the stream is read; a missing object fails here, not on read."""
        blob = self._blob(key)
        reader = blob.open("rb", chunk_size=self.CHUNK_SIZE, **self._calls())
        return buffered(reader, lambda: self._errors(f"read {key}"))

    def _blob(self, key: str) -> Blob:
        """The object with its metadata; :class:`ConnectorError` when it does not exist."""
        validate_key(key)
        with self._errors(f"look up {key}"):
            blob = self.bucket.get_blob(key, **self._calls())
        if blob is None:
            raise ConnectorError(f"Storage connector {self.name!r}: {key} does not exist.")
        return blob

    def exists(self, key: str) -> bool:
        validate_key(key)
        with self._errors(f"look up {key}"):
            return bool(self.bucket.blob(key).exists(**self._calls()))

    def list_keys(self, prefix: str) -> list[str]:
        start = key_prefix(prefix)
        with self._errors(f"list {start or 'the bucket'}"):
            return sorted(blob.name for blob in self.client.list_blobs(self.bucket_name, prefix=start, **self._calls()))

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            validate_key(key)
        if not keys:
            return
        bucket = self.bucket
        with self._errors(f"delete {len(keys)} objects"):
            bucket.delete_blobs([bucket.blob(key) for key in keys], on_error=lambda blob: None, **self._calls())

    def get_hashes(self, key: str) -> dict[str, str]:
        """``{"md5", "crc32c"}`` as hex, from the object's metadata (GCS gives them in base64)."""
        blob = self._blob(key)
        hashes = {"md5": blob.md5_hash, "crc32c": blob.crc32c}
        return {name: base64.b64decode(value).hex() for name, value in hashes.items() if value}

    def presigned_url(self, key: str, expiration: int = 600, force_download: bool = False) -> str | None:
        """A V4 signed GET URL when the credentials hold a key that can sign; else ``None``.

        Service-account credentials sign locally. Anonymous (emulator) and user credentials cannot;
        the caller then streams the object itself (:meth:`open_stream`).
        """
        validate_key(key)
        blob = self.bucket.blob(key)
        if self._signer is None:
            return None
        try:
            return str(
                blob.generate_signed_url(
                    expiration=datetime.timedelta(seconds=int(expiration)),
                    version="v4",
                    method="GET",
                    credentials=self._signer,
                    api_access_endpoint=self.endpoint_url,
                    response_disposition=attachment_disposition(key) if force_download else None,
                )
            )
        except (AttributeError, TypeError, ValueError, google.auth.exceptions.GoogleAuthError) as error:
            logger.warning("Storage connector %r cannot sign a URL for %s: %s", self.name, key, error)
            return None

    def check(self) -> None:
        with self._errors(f"reach bucket {self.bucket_name}"):
            self.bucket.reload(**self._calls())
