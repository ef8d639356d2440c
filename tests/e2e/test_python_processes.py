"""Python processes on the real stack, on the local and the Docker backend.

A trivial process ends OK; one reads its Data input's outputs (the file
through its input mount) over the channel and creates an Entity owned by its
contributor; a hostile one tries to read and edit another user's objects
(refused with Resolwe's listener messages) and to find credentials in its
environment (there are none: the channel is its only way out).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from resolwe_prefect.cli.demo import ApiClient
from tests.support import pypi_cache

from .conftest import ADMIN_PASSWORD, PROCESSES, Stack, running_stack

pytestmark = pytest.mark.e2e

PYTHON_PROCESSES = Path(__file__).parent / "python_processes"
SLUGS = (
    "e2e-python-hello",
    "e2e-python-source",
    "e2e-python-reader",
    "e2e-python-attack",
    "e2e-python-file-child",
    "e2e-python-spawner",
)
IMAGE = "resolwe-prefect/base:bookworm-py"
PASSWORD = "python-e2e-password"
NOT_READABLE = "No objects match the given criteria or no permission to read object."
TIMEOUT = 180


def _manage(stack: Stack, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "resolwe_prefect.cli", "manage", *args],
        env=stack.env, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return done.stdout


def _docker_available() -> bool:
    try:
        found = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0


@pytest.fixture(scope="module")
def docker_stack():
    if not _docker_available():
        pytest.skip(f"Docker or the image {IMAGE} is not available")
    paths = os.pathsep.join([str(PROCESSES), str(PYTHON_PROCESSES)])
    with running_stack("python", {"RESOLWE_PREFECT_BACKEND": "docker", "RESOLWE_PREFECT_PROCESS_PATHS": paths}) as up:
        info = up.info
        yield Stack(info["api"], info["prefect_api"], up.home, ApiClient(info["api"], "admin", ADMIN_PASSWORD),
                    up.env, info["prefect_ui"])  # fmt: skip


@pytest.fixture(scope="module", params=["local", "docker"])
def target(request) -> Stack:
    """The session's stack (local backend, the processes registered into it) or one on the Docker backend."""
    if request.param == "docker":
        stack = request.getfixturevalue("docker_stack")
    else:
        stack = request.getfixturevalue("stack")
        _manage(stack, "register", "--file", str(PYTHON_PROCESSES / "e2e_python.py"))
    for slug in SLUGS:  # registered by the admin; every user may run them
        found = stack.client.session.get(f"{stack.url}/api/process", params={"slug": slug}, timeout=30).json()
        assert found, f"{slug} was not registered"
        response = stack.client.session.post(
            f"{stack.url}/api/process/{found[0]['id']}/permissions", json={"public": "view"}, timeout=30
        )
        assert response.status_code == 200, response.text
    return stack


def _user(stack: Stack, name: str) -> ApiClient:
    _manage(stack, "ensure_user", name, "--password", PASSWORD)
    return ApiClient(stack.url, name, PASSWORD)


@pytest.fixture(scope="module")
def users(target: Stack) -> tuple[ApiClient, ApiClient]:
    """Two ordinary users: the one whose processes run, and another whose objects they attack."""
    suffix = uuid.uuid4().hex[:6]
    return _user(target, f"pyuser-{suffix}"), _user(target, f"pyvictim-{suffix}")


def _run(client: ApiClient, slug: str, inputs: dict) -> dict:
    data = client.create_data(slug, inputs)
    return client.wait([data["id"]], TIMEOUT)[data["id"]]


def _api(client: ApiClient, method: str, path: str, **kwargs):
    response = client.session.request(method, f"{client.base_url}/api/{path}", timeout=30, **kwargs)
    return response


def test_a_trivial_python_process_ends_ok(target, users):
    user, _other = users
    final = _run(user, "e2e-python-hello", {"name": "e2e"})
    assert final["status"] == "OK", final["process_error"]
    assert final["output"] == {"greeting": "Hello, e2e!"}
    stdout = user.session.get(f"{user.base_url}/data/{final['id']}/stdout.txt", timeout=30)
    assert f"Hello from Data {final['id']}" in stdout.text


def test_a_python_process_reads_its_input_and_creates_an_entity(target, users):
    user, other = users
    text, sample = f"source-{uuid.uuid4().hex}", f"python-sample-{uuid.uuid4().hex[:8]}"
    source = _run(user, "e2e-python-source", {"text": text})
    assert source["status"] == "OK", source["process_error"]
    final = _run(user, "e2e-python-reader", {"source": source["id"], "sample": sample})
    assert final["status"] == "OK", final["process_error"]
    output = final["output"]
    assert output["source_name"] == source["name"] and output["source_text"] == text
    assert output["file_content"] == text and output["file_path"] == f"/inputs/{source['id']}/source.txt"
    entity = _api(user, "GET", f"entity/{output['entity_id']}")
    assert entity.status_code == 200 and entity.json()["name"] == sample
    assert entity.json()["contributor"]["username"] == user.credentials[0]
    assert "owner" in entity.json()["current_user_permissions"][0]["permissions"]
    assert _api(other, "GET", f"entity/{output['entity_id']}").status_code == 404


def test_run_process_creates_the_child_while_the_program_runs(target, users):
    user, _other = users
    text = f"note-{uuid.uuid4().hex}"
    spawner = _run(user, "e2e-python-spawner", {"text": text})
    assert spawner["status"] == "OK", spawner["process_error"]
    child_id = spawner["output"]["child"]
    child = user.wait([child_id], TIMEOUT)[child_id]
    assert child["status"] == "OK", child["process_error"]
    assert child["name"] == f"Spawned by {spawner['id']}"
    assert child["output"]["content"] == text, "the exported file reached the child"


@pytest.fixture(scope="module")
def victims_objects(target, users) -> dict:
    """The other user's Data object, a private entity, one shared with the user to view, a viewable collection."""
    user, victim = users
    data = _run(victim, "e2e-python-hello", {"name": "victim"})
    assert data["status"] == "OK", data["process_error"]
    hidden = _api(victim, "POST", "entity", json={"name": "Victim's private sample"}).json()
    shared = _api(victim, "POST", "entity", json={"name": "Victim's shared sample"}).json()
    collection = _api(victim, "POST", "collection", json={"name": "Victim's collection"}).json()
    for kind, obj in (("entity", shared), ("collection", collection)):
        granted = _api(victim, "POST", f"{kind}/{obj['id']}/permissions", json={"users": {user.credentials[0]: "view"}})
        assert granted.status_code == 200, granted.text
    return {"data": data["id"], "hidden": hidden["id"], "shared": shared["id"], "collection": collection["id"]}


def _attack(user: ApiClient, action: str, target_id: int | None = None) -> dict:
    inputs: dict = {"action": action}
    if target_id is not None:
        inputs["target"] = target_id
    return _run(user, "e2e-python-attack", inputs)


def test_a_python_process_cannot_read_what_its_contributor_may_not(target, users, victims_objects):
    user, _victim = users
    for action, target_id in (("read-data", victims_objects["data"]), ("read-entity", victims_objects["hidden"])):
        final = _attack(user, action, target_id)
        assert final["status"] == "ER", final
        assert final["process_error"] == [NOT_READABLE], final["process_error"]
    listed = _attack(user, "list-data")
    assert listed["status"] == "OK", listed["process_error"]
    assert victims_objects["data"] not in json.loads(listed["output"]["report"])
    assert listed["id"] in json.loads(listed["output"]["report"])


def test_a_python_process_cannot_edit_what_its_contributor_may_only_view(target, users, victims_objects):
    user, victim = users
    shared = victims_objects["shared"]
    final = _attack(user, "edit-entity", shared)
    assert final["status"] == "ER", final
    assert final["process_error"] == [f"No edit permission for entity with id {shared}."], final["process_error"]
    assert _api(victim, "GET", f"entity/{shared}").json()["name"] == "Victim's shared sample"
    collection = victims_objects["collection"]
    planted = _attack(user, "create-in-collection", collection)
    assert planted["status"] == "ER", planted
    assert planted["process_error"] == [f"No edit permission for collection with id {collection}."]
    assert _api(victim, "GET", "entity", params={"collection": collection}).json() == []


def test_a_python_process_finds_no_credentials_in_its_environment(target, users):
    user, _victim = users
    final = _attack(user, "environment")
    assert final["status"] == "OK", final["process_error"]
    seen = json.loads(final["output"]["report"])
    names = [name for name in seen if not name.startswith("/proc/")]
    words = ("PREFECT", "DATABASE", "DJANGO", "SECRET", "PASSWORD", "TOKEN", "AUTH")
    assert not [name for name in names if any(word in name.upper() for word in words)], names
    assert seen["RESOLWE_CHANNEL"] == "/runtime/channel.sock" and seen["PYTHONPATH"] == "/opt/resolwe/python"
    report = final["output"]["report"]
    secrets = [ADMIN_PASSWORD, PASSWORD]
    secrets += [(target.home / name).read_text().strip() for name in ("secret-key", "prefect-auth")]
    secrets += [value for name in ("DATABASE_URL", "PREFECT_API_AUTH_STRING") if (value := target.env.get(name))]
    assert not [secret for secret in secrets if secret and secret in report]


@pytest.fixture(scope="module")
def resolwe_bio_gene_sets(target: Stack) -> Stack:
    """resolwe-bio 65.1.1's tool-free processes and the gene set descriptor schema.

    Registered unchanged from the release: the Python gene set, BEDPE, IDAT and VEP cache processes
    and one bash process that imports its upload with ``re-import`` and saves ``"${NAME}.tab"``.
    """
    try:
        root = pypi_cache.distribution("resolwe-bio", "65.1.1") / "resolwe_bio"
    except pypi_cache.Unavailable as error:
        pytest.skip(f"resolwe-bio 65.1.1 is not cached and PyPI is unreachable: {error}")
    imports = root / "processes" / "import_data"
    _manage(target, "register", "--file", str(imports / "geneset.py"),
            "--file", str(imports / "annotation_bedpe.py"), "--file", str(imports / "methylation_array_idat.py"),
            "--file", str(imports / "ensembl_vep_cache.py"), "--file", str(imports / "mappability_tab.yml"),
            "--descriptor-file", str(root / "descriptors/geneset.yml"))  # fmt: skip
    return target


def test_resolwe_bio_gene_set_processes_run_unchanged(resolwe_bio_gene_sets, tmp_path):
    """Tool-free resolwe-bio processes: pure Python, a file import and the object API (DescriptorSchema)."""
    admin = resolwe_bio_gene_sets.client
    genes = {"genes": ["ENSG2", "ENSG1", "ENSG1"], "source": "ENSEMBL", "species": "Homo sapiens"}
    created = _run(admin, "create-geneset", genes)
    assert created["status"] == "OK", created["process_error"]
    assert created["process_warning"] == ["Removed duplicated genes."]
    assert (created["output"]["source"], created["output"]["species"]) == ("ENSEMBL", "Homo sapiens")
    assert created["descriptor_schema"]["slug"] == "geneset"
    storage = _api(admin, "GET", f"storage/{created['output']['geneset_json']}").json()
    assert storage["json"] == {"genes": ["ENSG1", "ENSG2"]}

    listing = tmp_path / "genes.txt"
    listing.write_text("ENSG3\n\nENSG1\nENSG3\n")
    uploaded = _run(
        admin, "upload-geneset", {"src": admin.upload(listing), "source": "ENSEMBL", "species": "Homo sapiens"}
    )
    assert uploaded["status"] == "OK", uploaded["process_error"]
    assert uploaded["output"]["geneset"]["file"] == "genes.tab.gz"
    stored = _api(admin, "GET", f"storage/{uploaded['output']['geneset_json']}").json()
    assert stored["json"] == {"genes": ["ENSG1", "ENSG3"]}


def test_resolwe_bio_bash_upload_gets_name_from_re_import(resolwe_bio_gene_sets, tmp_path):
    """upload-mappability: ``re-import ... extract`` then ``re-save-file mappability "${NAME}.tab"``."""
    import gzip

    admin = resolwe_bio_gene_sets.client
    upload = tmp_path / "hg19_mappability.tab.gz"
    upload.write_bytes(gzip.compress(b"chr1\t0.5\n"))
    final = _run(admin, "upload-mappability", {"src": admin.upload(upload)})
    assert final["status"] == "OK", final["process_error"]
    assert final["output"]["mappability"]["file"] == "hg19_mappability.tab"
    served = admin.session.get(f"{admin.base_url}/data/{final['id']}/hg19_mappability.tab", timeout=30)
    assert served.status_code == 200 and served.content == b"chr1\t0.5\n"


def test_resolwe_bio_python_uploads_run_unchanged(resolwe_bio_gene_sets, tmp_path):
    """upload-bedpe, upload-idat and upload-vep-cache: ``import_file`` in its formats, an entity, an archive."""
    import gzip
    import tarfile

    admin = resolwe_bio_gene_sets.client
    bedpe = tmp_path / "loops.bedpe"
    bedpe.write_text("chr1\t10\t20\tchr1\t50\t60\n")
    final = _run(admin, "upload-bedpe", {"src": admin.upload(bedpe), "species": "Homo sapiens", "build": "GRCh38"})
    assert final["status"] == "OK", final["process_error"]
    assert (final["output"]["bedpe"]["file"], final["output"]["build"]) == ("loops.bedpe", "GRCh38")

    channels = {}
    for channel in ("Red", "Grn"):
        path = tmp_path / f"S1_{channel}.idat"
        path.write_bytes(b"IDAT" + channel.encode())
        channels[channel] = admin.upload(path)
    idat = _run(admin, "upload-idat", {"red_channel": channels["Red"], "green_channel": channels["Grn"]})
    assert idat["status"] == "OK", idat["process_error"]
    # imported_format="compressed": the upload is stored gzipped.
    assert idat["output"]["red_channel"]["file"] == "S1_Red.idat.gz"
    served = admin.session.get(f"{admin.base_url}/data/{idat['id']}/S1_Red.idat.gz", timeout=30)
    assert gzip.decompress(served.content) == b"IDATRed"
    assert idat["entity"] is not None, "the process's entity rule makes a sample"
    mouse = _run(admin, "upload-idat", {"red_channel": channels["Red"], "green_channel": channels["Grn"],
                                        "species": "Mus musculus", "platform": "EPIC"})  # fmt: skip
    assert mouse["status"] == "ER"
    assert mouse["process_error"] == ["Platform type EPIC does not match the selected species Mus musculus."]
    other = tmp_path / "S2_Grn.idat"
    other.write_bytes(b"IDATGrn")
    mismatched = _run(admin, "upload-idat", {"red_channel": channels["Red"], "green_channel": admin.upload(other)})
    assert mismatched["status"] == "ER"
    assert mismatched["process_error"][0].startswith("The input IDAT files don't have a matching filename prefix.")

    cache = tmp_path / "homo_sapiens" / "110_GRCh38"
    cache.mkdir(parents=True)
    (cache / "info.txt").write_text("species\thomo_sapiens\n")
    archive = tmp_path / "vep_cache.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "homo_sapiens", arcname="homo_sapiens")
    vep = _run(admin, "upload-vep-cache", {"cache_file": admin.upload(archive), "build": "GRCh38", "release": "110"})
    assert vep["status"] == "OK", vep["process_error"]
    assert vep["output"]["cache"]["dir"] == "Ensembl-vep_cache"
    listed = admin.session.get(f"{admin.base_url}/data/{vep['id']}/Ensembl-vep_cache/homo_sapiens/110_GRCh38/info.txt",
                               timeout=30)  # fmt: skip
    assert listed.status_code == 200 and listed.text == "species\thomo_sapiens\n"
