"""Real object stores in the test process: moto's S3 server and gcp-storage-emulator.

Each runs on a free port of 127.0.0.1 and speaks the store's HTTP API, so the connectors are
tested through their real SDK clients. The handles give the endpoint, a fresh bucket per test
and the connector config for it; ``unreachable_config`` points at a closed port, to test how a
store that is down fails.
"""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REGION = "us-east-1"
ACCESS_KEY = {"AccessKeyId": "testing-key", "SecretAccessKey": "testing-secret"}
GCS_PROJECT = "test-project"
#: Fail fast: nothing listens on a closed port, and the tests should not wait out production retries.
S3_FAST_FAILURE = {"connect_timeout": 1, "read_timeout": 10, "max_attempts": 2}
GCS_FAST_FAILURE = {"connect_timeout": 1, "read_timeout": 10, "retry_timeout": 2}


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_endpoint() -> str:
    """An endpoint that refuses connections: a port that was free a moment ago."""
    return f"http://127.0.0.1:{free_port()}"


def new_bucket_name() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"


@dataclass
class S3Server:
    """A running moto S3 server and the credentials file the connectors read (Resolwe's format)."""

    endpoint_url: str
    credentials_file: Path
    region_name: str = REGION

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            aws_access_key_id=ACCESS_KEY["AccessKeyId"],
            aws_secret_access_key=ACCESS_KEY["SecretAccessKey"],
        )

    def create_bucket(self) -> str:
        name = new_bucket_name()
        self.client().create_bucket(Bucket=name)
        return name

    def connector_config(self, bucket: str | None = None, **extra: Any) -> dict[str, Any]:
        """Config of an ``AwsS3Connector`` on ``bucket`` (a new one by default)."""
        return {
            "bucket": bucket or self.create_bucket(),
            "region_name": self.region_name,
            "credentials": str(self.credentials_file),
            "endpoint_url": self.endpoint_url,
            **S3_FAST_FAILURE,
            **extra,
        }

    def unreachable_config(self, **extra: Any) -> dict[str, Any]:
        return self.connector_config(bucket="unreachable", **{"endpoint_url": closed_endpoint(), **extra})


@dataclass
class GCSServer:
    """A running gcp-storage-emulator; the connectors reach it anonymously through ``endpoint_url``."""

    endpoint_url: str
    project: str = GCS_PROJECT

    def client(self) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud.storage import Client

        return Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint_url},
        )

    def create_bucket(self) -> str:
        name = new_bucket_name()
        self.client().create_bucket(name)
        return name

    def connector_config(self, bucket: str | None = None, **extra: Any) -> dict[str, Any]:
        """Config of a ``GoogleConnector`` on ``bucket`` (a new one by default)."""
        return {
            "bucket": bucket or self.create_bucket(),
            "endpoint_url": self.endpoint_url,
            "project": self.project,
            **GCS_FAST_FAILURE,
            **extra,
        }

    def unreachable_config(self, **extra: Any) -> dict[str, Any]:
        return self.connector_config(bucket="unreachable", **{"endpoint_url": closed_endpoint(), **extra})


def start_s3(directory: Path) -> tuple[Any, S3Server]:
    """Start moto's S3 server; ``(server to stop, handle)``."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    credentials_file = directory / "aws-credentials.json"
    credentials_file.write_text(json.dumps(ACCESS_KEY), encoding="utf-8")
    return server, S3Server(endpoint_url=f"http://{host}:{port}", credentials_file=credentials_file)


def start_gcs() -> tuple[Any, GCSServer]:
    """Start gcp-storage-emulator in memory; ``(server to stop, handle)``."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="default-bucket")
    server.start()
    return server, GCSServer(endpoint_url=f"http://127.0.0.1:{port}")


def write_service_account(path: Path, token_uri: str) -> Path:
    """A service-account key file with a fresh RSA key: enough to sign URLs locally.

    ``token_uri`` should be a closed endpoint: nothing signed with this key may reach Google.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    info = {
        "type": "service_account",
        "project_id": GCS_PROJECT,
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": f"tests@{GCS_PROJECT}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return path
