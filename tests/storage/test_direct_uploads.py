"""Direct uploads to S3 (Resolwe's ``upload_config`` of type S3), on moto's S3 server."""

from __future__ import annotations

import uuid

import boto3
import pytest

from resolwe_prefect.storage.direct_uploads import fetch_upload
from tests.data.conftest import make_process
from tests.storage.conftest import S3_CLASS

pytestmark = pytest.mark.django_db


@pytest.fixture
def direct(settings, s3_server):
    bucket = s3_server.create_bucket()
    settings.STORAGE_CONNECTORS = {"S3": {"connector": S3_CLASS, "config": s3_server.connector_config(bucket)}}
    settings.FLOW_STORAGE = {"upload": {"connectors": ["S3"]}}
    return s3_server, bucket


def _upload_with(config: dict, endpoint: str, content: bytes) -> str:
    """What resdk does with the answer: put the file under the prefix with the temporary credentials."""
    credentials = config["credentials"]
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name=config["region"], aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"],
    )  # fmt: skip
    key = f"{config['prefix']}/{uuid.uuid4()}"
    client.put_object(Bucket=config["bucket_name"], Key=key, Body=content)
    return f"s3://{config['bucket_name']}/{key}"


def test_upload_config_offers_s3_with_credentials_for_the_users_own_prefix(direct, user_client, contributor, tmp_path):
    server, bucket = direct
    answer = user_client.get("/api/upload_config").json()
    assert answer["type"] == "S3"
    config = answer["config"]
    assert (config["bucket_name"], config["prefix"]) == (bucket, str(contributor.pk))
    assert set(config["credentials"]) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert user_client.get("/api/upload/config").json()["type"] == "S3"
    credentials = user_client.get("/api/upload/credentials").json()
    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}

    file_temp = _upload_with(config, server.endpoint_url, b"direct\n")
    assert fetch_upload(file_temp, contributor.pk, tmp_path).read_bytes() == b"direct\n"


def test_a_direct_upload_is_only_its_owners(direct, user_client, contributor, admin, tmp_path):
    server, bucket = direct
    file_temp = _upload_with(user_client.get("/api/upload_config").json()["config"], server.endpoint_url, b"mine\n")
    key = file_temp.split("/", 3)[3]
    for refused in (
        file_temp.replace(f"/{contributor.pk}/", f"/{admin.pk}/"),  # another user's prefix
        file_temp.replace(bucket, "another-bucket"),
        f"s3://{bucket}/{contributor.pk}/../{key}",
        f"s3://{bucket}/{key.split('/')[-1]}",  # no prefix at all
    ):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            fetch_upload(refused, contributor.pk, tmp_path)
    with pytest.raises(FileNotFoundError):
        fetch_upload(file_temp, admin.pk, tmp_path)


def test_without_a_configured_connector_or_a_user_uploads_go_through_the_server(
    settings, s3_server, user_client, anon_client
):
    settings.FLOW_STORAGE = {}
    assert user_client.get("/api/upload_config").json() == {"type": "LOCAL", "config": {}}
    assert user_client.get("/api/upload/credentials").status_code == 400
    settings.STORAGE_CONNECTORS = {"S3": {"connector": S3_CLASS, "config": s3_server.connector_config()}}
    settings.FLOW_STORAGE = {"upload": {"connectors": ["S3"]}}
    assert anon_client.get("/api/upload_config").json() == {"type": "LOCAL", "config": {}}


def test_data_creation_accepts_s3_file_temps_and_names_a_malformed_one(direct, user_client, contributor):
    from resolwe_prefect.permissions import services as permissions

    process = make_process(contributor, "takes-file", inputs=[{"name": "src", "label": "Src", "type": "basic:file:"}])
    permissions.on_created(process)
    _server, bucket = direct
    good = {"file": "a.txt", "file_temp": f"s3://{bucket}/{contributor.pk}/{uuid.uuid4()}"}
    created = user_client.post("/api/data", {"process": {"slug": "takes-file"}, "input": {"src": good}}, format="json")
    assert created.status_code == 201, created.content
    bad = {"file": "a.txt", "file_temp": "s3://"}
    refused = user_client.post("/api/data", {"process": {"slug": "takes-file"}, "input": {"src": bad}}, format="json")
    assert refused.status_code == 400 and "src" in refused.content.decode()
