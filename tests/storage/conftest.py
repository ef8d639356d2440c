"""Fixtures of the storage tests: real S3 and GCS servers for the session, a closed endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.storage.servers import GCSServer, S3Server, closed_endpoint, start_gcs, start_s3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server on a free port; ``create_bucket()`` and ``connector_config()`` per test."""
    server, handle = start_s3(tmp_path_factory.mktemp("s3-server"))
    try:
        yield handle
    finally:
        server.stop()


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GCSServer]:
    """gcp-storage-emulator (in memory) on a free port; ``create_bucket()`` and ``connector_config()``."""
    server, handle = start_gcs()
    try:
        yield handle
    finally:
        server.stop()


@pytest.fixture
def unreachable_endpoint() -> str:
    """An ``endpoint_url`` on which nothing listens: put it in a connector config to make its store down."""
    return closed_endpoint()
