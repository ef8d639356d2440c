"""``credentials_block``: connectors use prefect-aws / prefect-gcp credentials saved as Prefect blocks.

Saved on a real (temporary) Prefect server and loaded by name when a connector first needs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from resolwe_prefect.storage.connectors import build_connector
from tests.storage.servers import closed_endpoint, write_service_account

S3 = "resolwe.storage.connectors.s3connector.AwsS3Connector"
GCS = "resolwe.storage.connectors.googleconnector.GoogleConnector"


@pytest.fixture(scope="module")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_connectors_use_saved_credentials_blocks(prefect_server, s3_server, gcs_server, tmp_path: Path) -> None:
    from prefect_aws import AwsCredentials
    from prefect_gcp import GcpCredentials

    AwsCredentials(aws_access_key_id="block-key", aws_secret_access_key="block-secret").save("site-s3", overwrite=True)
    service_account = write_service_account(tmp_path / "sa.json", token_uri=closed_endpoint())
    GcpCredentials(service_account_file=service_account).save("site-gcs", overwrite=True)

    bucket = s3_server.create_bucket()
    s3_config = {**s3_server.connector_config(bucket), "credentials": None, "credentials_block": "site-s3"}
    s3 = build_connector("S3", {"connector": S3, "config": s3_config})
    source = tmp_path / "f.txt"
    source.write_bytes(b"kept with the block's keys\n")
    s3.push(source, "1/f.txt")
    assert s3.exists("1/f.txt")
    url = s3.presigned_url("1/f.txt") or ""
    assert "block-key" in url, "signed with the saved block's key"

    gcs = build_connector(
        "GCS", {"connector": GCS, "config": {**gcs_server.connector_config(), "credentials_block": "site-gcs"}}
    )
    assert "X-Goog-Signature" in (gcs.presigned_url("1/f.txt") or ""), "signed with the block's service account"


def test_a_missing_block_is_the_connectors_error(prefect_server, s3_server, tmp_path: Path) -> None:
    from resolwe_prefect.storage.connectors import ConnectorError

    s3_config = {**s3_server.connector_config(), "credentials": None, "credentials_block": "no-such-block"}
    s3 = build_connector("S3", {"connector": S3, "config": s3_config})
    source = tmp_path / "f.txt"
    source.write_bytes(b"x")
    with pytest.raises(ConnectorError, match="no-such-block"):
        s3.push(source, "1/f.txt")
