"""Fixtures of the storage tests: real S3 and GCS servers for the session, a closed endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.storage.servers import GCSServer, S3Server, closed_endpoint, start_gcs, start_s3

S3_CLASS = "resolwe.storage.connectors.s3connector.AwsS3Connector"
GCS_CLASS = "resolwe.storage.connectors.googleconnector.GoogleConnector"
LOCAL_CLASS = "resolwe.storage.connectors.localconnector.LocalFilesystemConnector"


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


@pytest.fixture(params=["S3", "GCS"])
def remote(request, settings, tmp_path):
    """``(connector name, server handle, bucket)`` with the rules of the issue configured."""
    server = request.getfixturevalue("s3_server" if request.param == "S3" else "gcs_server")
    bucket = server.create_bucket()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": data_dir}
    settings.STORAGE_CONNECTORS = {
        "local": {
            "connector": LOCAL_CLASS,
            "config": {"priority": 0, "path": str(data_dir), "delete": {"delay": 0, "min_other_copies": 1}},
        },
        request.param: {
            "connector": S3_CLASS if request.param == "S3" else GCS_CLASS,
            "config": {**server.connector_config(bucket), "priority": 10, "copy": {"delay": 0}},
        },
    }
    return request.param, server, bucket
