"""An Amazon S3 bucket (or an S3-compatible store: MinIO, Ceph, moto) through prefect-aws.

Config (Resolwe's keys): ``bucket`` (required), ``region_name``, ``credentials`` (a JSON file
``{"AccessKeyId": ..., "SecretAccessKey": ..., "SessionToken": ...}``; without it boto3's own
chain applies: environment, profile, instance role), ``endpoint_url`` (else the environment's
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``), ``multipart_chunksize`` (default 8 MiB) and
``multipart_threshold`` (at least 5 MiB, S3's smallest part). Ours: ``credentials_block`` (a saved ``prefect_aws.AwsCredentials``
used instead of the file), ``connect_timeout`` / ``read_timeout`` (seconds), ``max_attempts``
(per request, retries included) and ``addressing_style`` (default ``path`` with an endpoint).

Files above one part are uploaded in parts of ``multipart_chunksize``, so the ETag S3 reports
is the ``awss3etag`` that ``hashing.compute_hashes`` records with the same chunk size.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mimetypes
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3.exceptions
import botocore.exceptions
from boto3.s3.transfer import TransferConfig

from resolwe_prefect.storage.connectors.base import (
    ConnectorConfigError,
    ConnectorError,
    LazyClient,
    StorageConnector,
    attachment_disposition,
    buffered,
    key_prefix,
    validate_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from prefect_aws import AwsCredentials

logger = logging.getLogger(__name__)

ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, boto3.exceptions.Boto3Error, OSError)
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
#: S3's smallest part of a multipart upload (but the last).
MIN_PART_SIZE = 5 * 1024 * 1024
#: S3's limit of keys in one DeleteObjects request.
DELETE_BATCH = 1000


def _is_missing(error: botocore.exceptions.ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING_CODES


class AwsS3Connector(StorageConnector):
    """Resolwe's ``AwsS3Connector``."""

    REQUIRED_CONFIG = ("bucket",)

    def __init__(self, config: dict, name: str):
        super().__init__(config, name)
        self.bucket = str(self.config["bucket"])
        self.chunk_size = int(self.config.get("multipart_chunksize") or self.CHUNK_SIZE)
        if self.chunk_size < MIN_PART_SIZE:  # boto3 would upload larger parts: ETags unlike the recorded ones
            raise ConnectorConfigError(f"Storage connector {name!r}: config key 'multipart_chunksize' is below 5 MiB.")
        # A file of exactly one part is one PUT: its ETag is its md5, as compute_hashes has it.
        threshold = int(self.config.get("multipart_threshold") or self.chunk_size + 1)
        self.transfer_config = TransferConfig(
            multipart_threshold=threshold,
            multipart_chunksize=self.chunk_size,
            max_concurrency=int(self.config.get("max_concurrency", 4)),
        )
        self._client: LazyClient[S3Client] = LazyClient(self._make_client, f"storage connector {name!r}")

    @property
    def client(self) -> S3Client:
        return self._client.get()

    @property
    def endpoint_url(self) -> str | None:
        configured = self.config.get("endpoint_url")
        return configured or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None

    def botocore_config(self) -> dict[str, Any]:
        """Short connect timeouts and a few retries: an unreachable store fails in seconds, not minutes.

        Checksums only when S3 requires them: S3-compatible stores do not all accept the newer ones.
        """
        config: dict[str, Any] = {
            "connect_timeout": float(self.config.get("connect_timeout", 5)),
            "read_timeout": float(self.config.get("read_timeout", 60)),
            "retries": {"max_attempts": int(self.config.get("max_attempts", 3)), "mode": "standard"},
            # SigV4 for presigned URLs too: newer regions and S3-compatible stores refuse SigV2.
            "signature_version": "s3v4",
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
        if self.endpoint_url or self.config.get("addressing_style"):
            config["s3"] = {"addressing_style": self.config.get("addressing_style", "path")}
        return config

    def _read_credentials_file(self) -> dict[str, str]:
        path = self.config.get("credentials")
        if not path:
            return {}
        with open(path, encoding="utf-8") as stream:
            keys = json.load(stream)
        if not isinstance(keys, dict) or not keys.get("AccessKeyId") or not keys.get("SecretAccessKey"):
            raise ConnectorError(f"Storage connector {self.name!r}: {path} lacks AccessKeyId or SecretAccessKey.")
        return keys

    def _credentials(self) -> AwsCredentials:
        """prefect-aws credentials from the block or the file, with this connector's endpoint and timeouts."""
        # Imported here: prefect-aws imports Prefect, seconds a site without S3 need not spend.
        from prefect_aws import AwsCredentials
        from prefect_aws.client_parameters import AwsClientParameters
        from pydantic import SecretStr

        block_name = self.config.get("credentials_block")
        if block_name:
            loaded = AwsCredentials.load(block_name, _sync=True)  # type: ignore[call-arg]
            if not isinstance(loaded, AwsCredentials):
                raise ConnectorError(f"Storage connector {self.name!r}: block {block_name!r} is not AwsCredentials.")
            parameters = loaded.aws_client_parameters.model_copy(
                update={
                    "endpoint_url": self.endpoint_url or loaded.aws_client_parameters.endpoint_url,
                    "config": {**self.botocore_config(), **(loaded.aws_client_parameters.config or {})},
                }
            )
            region = self.config.get("region_name") or loaded.region_name
            return loaded.model_copy(update={"aws_client_parameters": parameters, "region_name": region})
        keys = self._read_credentials_file()
        secret = keys.get("SecretAccessKey")
        return AwsCredentials(
            aws_access_key_id=keys.get("AccessKeyId"),
            aws_secret_access_key=SecretStr(secret) if secret else None,
            aws_session_token=keys.get("SessionToken"),
            region_name=self.config.get("region_name"),
            aws_client_parameters=AwsClientParameters(endpoint_url=self.endpoint_url, config=self.botocore_config()),
        )

    def _make_client(self) -> S3Client:
        return self._credentials().get_s3_client()

    def _errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        return self._failing(action, ERRORS)

    def push(self, source: Path, key: str) -> None:
        validate_key(key)
        content_type = mimetypes.guess_type(key)[0]
        extra_args = {"ContentType": content_type} if content_type else {}
        with self._errors(f"store {key}"):
            self.client.upload_file(str(source), self.bucket, key, ExtraArgs=extra_args, Config=self.transfer_config)

    def get(self, key: str, destination: Path) -> None:
        validate_key(key)
        with self._errors(f"read {key}"):
            destination.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, key, str(destination), Config=self.transfer_config)

    def open_stream(self, key: str) -> BinaryIO:
        validate_key(key)
        with self._errors(f"read {key}"):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return buffered(body, lambda: self._errors(f"read {key}"))

    def _head(self, key: str) -> dict[str, Any] | None:
        validate_key(key)
        with self._errors(f"look up {key}"):
            try:
                return dict(self.client.head_object(Bucket=self.bucket, Key=key))
            except botocore.exceptions.ClientError as error:
                if _is_missing(error):
                    return None
                raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def list_keys(self, prefix: str) -> list[str]:
        start = key_prefix(prefix)
        keys: list[str] = []
        with self._errors(f"list {start or 'the bucket'}"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                keys.extend(entry["Key"] for entry in page.get("Contents", []))
        return sorted(keys)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            validate_key(key)
        for first in range(0, len(keys), DELETE_BATCH):
            batch = keys[first : first + DELETE_BATCH]
            with self._errors(f"delete {len(batch)} objects"):
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
            failed = [error for error in response.get("Errors", []) if error.get("Code") not in MISSING_CODES]
            if failed:
                details = ", ".join(
                    f"{error.get('Key')}: {error.get('Code')} {error.get('Message', '')}" for error in failed[:5]
                )
                raise ConnectorError(
                    f"Storage connector {self.name!r} could not delete {len(failed)} objects: {details}"
                )

    def get_hashes(self, key: str) -> dict[str, str]:
        """``{"awss3etag": ...}``: the ETag S3 computed on upload, without its quotes."""
        head = self._head(key)
        if head is None:
            raise ConnectorError(f"Storage connector {self.name!r}: {key} does not exist.")
        etag = str(head.get("ETag", "")).strip('"')
        return {"awss3etag": etag} if etag else {}

    def presigned_url(self, key: str, expiration: int = 600, force_download: bool = False) -> str | None:
        """A GET URL signed locally with the credentials (no request to S3); ``None`` when there are none."""
        validate_key(key)
        params = {"Bucket": self.bucket, "Key": key}
        if force_download:
            params["ResponseContentDisposition"] = attachment_disposition(key)
        client = self.client
        try:
            return str(client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expiration)))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            logger.warning("Storage connector %r cannot sign a URL for %s: %s", self.name, key, error)
            return None

    def check(self) -> None:
        with self._errors(f"reach bucket {self.bucket}"):
            self.client.head_bucket(Bucket=self.bucket)

    def temporary_credentials(self, prefix: str, duration: int = 900) -> dict[str, Any]:
        """Short-lived credentials that may only put objects under ``prefix/``, for a client's direct upload.

        Resolwe's ``upload_config`` for S3, in the shape resdk reads: ``{"credentials": {AccessKeyId,
        SecretAccessKey, SessionToken, Expiration}, "bucket_name", "region", "prefix"}`` (an STS
        federation token whose policy names only that prefix of the bucket).
        """
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                    "Resource": f"arn:aws:s3:::{self.bucket}/{prefix}/*",
                }
            ],
        }
        with self._errors("issue upload credentials"):
            sts = self._credentials().get_client("sts")
            token = sts.get_federation_token(
                Name=f"resolwe-upload-{prefix}"[:32], Policy=json.dumps(policy), DurationSeconds=max(900, duration)
            )
        issued = token["Credentials"]
        expiration = issued["Expiration"]
        return {
            "credentials": {
                "AccessKeyId": issued["AccessKeyId"],
                "SecretAccessKey": issued["SecretAccessKey"],
                "SessionToken": issued["SessionToken"],
                "Expiration": expiration.isoformat() if hasattr(expiration, "isoformat") else str(expiration),
            },
            "bucket_name": self.bucket,
            "region": self.config.get("region_name"),
            "prefix": prefix,
        }
