"""The storage connectors against a real directory, moto's S3 server and the GCS emulator."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
import requests

from resolwe_prefect.storage.connectors import (
    CONNECTOR_CLASSES,
    ConnectorConfigError,
    ConnectorError,
    StorageConnector,
    build_connectors,
)
from resolwe_prefect.storage.connectors.base import LazyClient
from resolwe_prefect.storage.connectors.gcs import GoogleConnector
from resolwe_prefect.storage.connectors.local import LocalFilesystemConnector
from resolwe_prefect.storage.connectors.s3 import AwsS3Connector
from resolwe_prefect.storage.hashing import compute_hashes
from tests.storage.servers import closed_endpoint, write_service_account

LOCAL = "resolwe.storage.connectors.localconnector.LocalFilesystemConnector"
S3 = "resolwe.storage.connectors.s3connector.AwsS3Connector"
GCS = "resolwe.storage.connectors.googleconnector.GoogleConnector"
MIB = 1024 * 1024
#: The smallest part S3 (and moto) accept, so the smallest chunk that tests multipart ETags.
S3_CHUNK = 5 * MIB


def build(class_path: str, config: dict, name: str = "store") -> StorageConnector:
    return build_connectors({name: {"connector": class_path, "config": config}})[name]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(params=["local", "s3", "gcs"])
def connector(request: pytest.FixtureRequest, tmp_path: Path) -> StorageConnector:
    """Each kind of connector on an empty store (the servers start only when a test needs them)."""
    if request.param == "local":
        (tmp_path / "store").mkdir()
        return build(LOCAL, {"path": str(tmp_path / "store")})
    if request.param == "s3":
        return build(S3, request.getfixturevalue("s3_server").connector_config())
    return build(GCS, request.getfixturevalue("gcs_server").connector_config())


def test_push_get_list_delete(connector: StorageConnector, tmp_path: Path) -> None:
    sources = {"7/a.txt": b"alpha", "7/dir/b.bin": os.urandom(3000), "70/c.txt": b"not under 7/"}
    for key, data in sources.items():
        connector.push(write(tmp_path / "src" / key, data), key)
    connector.check()
    assert connector.exists("7/dir/b.bin") and not connector.exists("7/dir")
    assert connector.list_keys("7") == connector.list_keys("7/") == ["7/a.txt", "7/dir/b.bin"]
    assert connector.list_keys("") == ["7/a.txt", "7/dir/b.bin", "70/c.txt"]
    assert connector.list_keys("8") == []

    connector.get("7/dir/b.bin", tmp_path / "out" / "deep" / "b.bin")
    assert (tmp_path / "out" / "deep" / "b.bin").read_bytes() == sources["7/dir/b.bin"]
    with connector.open_stream("7/dir/b.bin") as stream:
        assert stream.read(10) + stream.read() == sources["7/dir/b.bin"]

    connector.push(write(tmp_path / "new.txt", b"replaced"), "7/a.txt")
    with connector.open_stream("7/a.txt") as stream:
        assert stream.read() == b"replaced"

    connector.delete(["7/a.txt", "7/never-there.txt"])
    assert connector.list_keys("7") == ["7/dir/b.bin"] and not connector.exists("7/a.txt")
    connector.delete(["7/dir/b.bin", "70/c.txt"])
    connector.delete([])
    assert connector.list_keys("") == []


def test_missing_objects_and_bad_keys(connector: StorageConnector, tmp_path: Path) -> None:
    assert not connector.exists("9/missing.txt")
    with pytest.raises(ConnectorError, match="missing.txt"):
        connector.get("9/missing.txt", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConnectorError):
        connector.open_stream("9/missing.txt")
    with pytest.raises(ConnectorError):
        connector.get_hashes("9/missing.txt")
    for key in ("/9/abs.txt", "../9.txt", "9/../../x.txt", "", "9/dir/"):
        with pytest.raises(ValueError, match="Invalid storage key"):
            connector.exists(key)


def test_local_reads_in_place_hashes_and_prunes(tmp_path: Path) -> None:
    base = tmp_path / "data"
    connector = build(LOCAL, {"path": str(base), "priority": 0, "copy": {"delay": 1}})
    with pytest.raises(ConnectorError, match="not a directory"):
        connector.check()
    source = write(tmp_path / "f.bin", os.urandom(3000))
    connector.push(source, "12/sub/f.bin")
    connector.check()
    assert connector.mountable and connector.priority == 0
    assert connector.local_path("12/sub/f.bin") == base / "12" / "sub" / "f.bin"
    assert connector.presigned_url("12/sub/f.bin", force_download=True) is None
    assert connector.get_hashes("12/sub/f.bin") == compute_hashes(source)

    connector.CHUNK_SIZE = 1024  # the awss3etag of a file of three parts
    assert connector.get_hashes("12/sub/f.bin") == compute_hashes(source, 1024)
    assert connector.get_hashes("12/sub/f.bin")["awss3etag"].endswith("-3")

    connector.push(source, "12/keep.txt")
    connector.delete(["12/sub/f.bin"])
    assert not (base / "12" / "sub").exists() and (base / "12" / "keep.txt").is_file()
    connector.delete(["12/keep.txt"])
    assert not (base / "12").exists() and base.is_dir()


def test_compute_hashes(tmp_path: Path) -> None:
    md5 = hashlib.md5
    abc = compute_hashes(write(tmp_path / "abc", b"abc"))
    assert abc == {"md5": "900150983cd24fb0d6963f7d28e17f72", "crc32c": "364b3fb7", "awss3etag": abc["md5"]}
    empty = compute_hashes(write(tmp_path / "empty", b""))
    assert empty == {"md5": md5(b"").hexdigest(), "crc32c": "00000000", "awss3etag": md5(b"").hexdigest()}
    one_part = compute_hashes(write(tmp_path / "one", b"a" * 1000), chunk_size=1000)
    assert one_part["awss3etag"] == one_part["md5"] == md5(b"a" * 1000).hexdigest()
    three = compute_hashes(write(tmp_path / "three", b"a" * 2500), chunk_size=1000)
    parts = md5(b"a" * 1000).digest() * 2 + md5(b"a" * 500).digest()
    assert three["awss3etag"] == f"{md5(parts).hexdigest()}-3"
    assert three["md5"] == md5(b"a" * 2500).hexdigest() and len(three["crc32c"]) == 8


def test_s3_etag_is_the_recorded_awss3etag(s3_server, tmp_path: Path) -> None:
    connector = build(S3, s3_server.connector_config(multipart_chunksize=S3_CHUNK))
    for size in (0, 1000, S3_CHUNK, 2 * S3_CHUNK + 1000):
        source = write(tmp_path / f"f{size}", os.urandom(size))
        connector.push(source, f"1/f{size}")
        assert connector.get_hashes(f"1/f{size}") == {"awss3etag": compute_hashes(source, S3_CHUNK)["awss3etag"]}
    assert connector.get_hashes(f"1/f{2 * S3_CHUNK + 1000}")["awss3etag"].endswith("-3")
    assert "-" not in connector.get_hashes(f"1/f{S3_CHUNK}")["awss3etag"]

    default = build(S3, s3_server.connector_config())
    source = write(tmp_path / "small.txt", b"small")
    default.push(source, "2/small.txt")
    assert default.get_hashes("2/small.txt")["awss3etag"] == compute_hashes(source)["awss3etag"]


def test_gcs_reports_md5_and_crc32c(gcs_server, tmp_path: Path) -> None:
    connector = build(GCS, gcs_server.connector_config())
    for size in (0, 1000, 9 * MIB):  # above 8 MiB the client uploads resumably, in several requests
        source = write(tmp_path / f"f{size}", os.urandom(size))
        connector.push(source, f"1/f{size}")
        expected = compute_hashes(source)
        assert connector.get_hashes(f"1/f{size}") == {"md5": expected["md5"], "crc32c": expected["crc32c"]}


def test_s3_presigned_url_serves_the_object(s3_server, tmp_path: Path) -> None:
    connector = build(S3, s3_server.connector_config())
    data = os.urandom(2000)
    connector.push(write(tmp_path / "f.bin", data), "3/dir/Ünicode name.bin")
    url = connector.presigned_url("3/dir/Ünicode name.bin", expiration=60)
    assert url and "X-Amz-Signature" in url
    assert requests.get(url, timeout=10).content == data
    response = requests.get(connector.presigned_url("3/dir/Ünicode name.bin", force_download=True) or "", timeout=10)
    assert response.content == data
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%C3%9Cnicode%20name.bin" in response.headers["Content-Disposition"]


def test_gcs_presigned_url_needs_a_signing_key(gcs_server, tmp_path: Path) -> None:
    """Anonymous (emulator) credentials cannot sign: ``None``, the object is streamed instead.

    Service-account credentials sign locally, and the emulator serves the signed URL.
    """
    config = gcs_server.connector_config()
    anonymous = build(GCS, config)
    data = os.urandom(1500)
    anonymous.push(write(tmp_path / "f.bin", data), "4/f.bin")
    assert anonymous.presigned_url("4/f.bin") is None
    with anonymous.open_stream("4/f.bin") as stream:
        assert stream.read() == data

    service_account = write_service_account(tmp_path / "sa.json", token_uri=closed_endpoint())
    signing = build(GCS, {**config, "credentials": str(service_account)})
    url = signing.presigned_url("4/f.bin", expiration=60, force_download=True)
    assert url and url.startswith(gcs_server.endpoint_url) and "X-Goog-Signature" in url
    response = requests.get(url, timeout=10)
    assert response.content == data and response.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("kind", ["s3", "gcs"])
def test_unreachable_store_fails_quickly(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server = request.getfixturevalue(f"{kind}_server")
    connector = build(S3 if kind == "s3" else GCS, server.unreachable_config())
    source = write(tmp_path / "f.txt", b"data")
    started = time.monotonic()
    with pytest.raises(ConnectorError, match="could not store 1/f.txt"):
        connector.push(source, "1/f.txt")
    with pytest.raises(ConnectorError):
        connector.check()
    with pytest.raises(ConnectorError):
        connector.exists("1/f.txt")
    assert time.monotonic() - started < 20


def test_credentials_are_read_on_first_use(s3_server, tmp_path: Path) -> None:
    connector = build(S3, s3_server.connector_config(credentials=str(tmp_path / "absent.json")))
    with pytest.raises(ConnectorError, match="absent.json"):
        connector.exists("1/f.txt")


def test_credentials_blocks_are_loaded_lazily(s3_server, gcs_server, tmp_path: Path, monkeypatch) -> None:
    from prefect_aws import AwsCredentials
    from prefect_gcp import GcpCredentials
    from pydantic import SecretStr

    loaded: list[str] = []
    service_account = write_service_account(tmp_path / "sa.json", token_uri=closed_endpoint())

    def load_aws(cls, name: str, **kwargs) -> AwsCredentials:
        loaded.append(name)
        return AwsCredentials(aws_access_key_id="testing-key", aws_secret_access_key=SecretStr("testing-secret"))

    def load_gcp(cls, name: str, **kwargs) -> GcpCredentials:
        loaded.append(name)
        return GcpCredentials(service_account_file=service_account)

    monkeypatch.setattr(AwsCredentials, "load", classmethod(load_aws))
    monkeypatch.setattr(GcpCredentials, "load", classmethod(load_gcp))
    s3_config = {**s3_server.connector_config(), "credentials": None, "credentials_block": "aws-block"}
    s3 = build(S3, s3_config)
    gcs = build(GCS, {**gcs_server.connector_config(), "credentials_block": "gcp-block"})
    assert loaded == []
    s3.push(write(tmp_path / "f.txt", b"data"), "1/f.txt")  # the block's keys, the config's endpoint
    assert s3.exists("1/f.txt") and loaded == ["aws-block"]
    assert "X-Goog-Signature" in (gcs.presigned_url("1/f.txt") or "")
    assert loaded == ["aws-block", "gcp-block"]


def test_lazy_client_is_made_once_across_threads() -> None:
    made: list[object] = []

    def factory() -> object:
        time.sleep(0.05)
        made.append(object())
        return made[-1]

    client: LazyClient[object] = LazyClient(factory, "test")
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(client.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and seen == made * 8


def test_registry_builds_resolwe_and_own_class_paths(tmp_path: Path) -> None:
    configs = {
        "local": {"connector": LOCAL, "config": {"path": str(tmp_path)}},
        "s3": {"connector": S3, "config": {"bucket": "b", "priority": 5}},
        "gcs": {"connector": GCS, "config": {"bucket": "b"}},
        "ours": {"connector": "resolwe_prefect.storage.connectors.s3.AwsS3Connector", "config": {"bucket": "b"}},
    }
    built = build_connectors(configs)
    assert [type(connector) for connector in built.values()] == [
        LocalFilesystemConnector,
        AwsS3Connector,
        GoogleConnector,
        AwsS3Connector,
    ]
    assert built["s3"].name == "s3" and built["s3"].priority == 5 and built["gcs"].priority == 100
    assert not built["s3"].mountable and built["s3"].local_path("1/f.txt") is None
    assert len(CONNECTOR_CLASSES) == 6 and build_connectors({}) == {}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"connector": "resolwe.storage.connectors.Nope", "config": {}}, "'broken'.*resolwe.storage.connectors.Nope"),
        ({"config": {"path": "/x"}}, "'broken'.*'connector'"),
        ({"connector": LOCAL, "config": {}}, "'broken'.*'path'"),
        ({"connector": LOCAL}, "'broken'.*'path'"),
        ({"connector": S3, "config": {"region_name": "eu-west-1"}}, "'broken'.*'bucket'"),
        ({"connector": GCS, "config": {"credentials": "/x.json"}}, "'broken'.*'bucket'"),
        ({"connector": S3, "config": {"bucket": "b", "multipart_chunksize": 1024}}, "'broken'.*'multipart_chunksize'"),
    ],
)
def test_registry_rejects_bad_entries(entry: dict, message: str) -> None:
    with pytest.raises(ConnectorConfigError, match=message) as raised:
        build_connectors({"broken": entry})
    assert isinstance(raised.value, ValueError)
