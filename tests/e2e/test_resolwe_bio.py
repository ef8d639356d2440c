"""resolwe-bio as a site runs it, on a stack of its own: its tools on PATH (collected into
FLOW_TOOLS_ROOT), its sample filters, a shell-only upload process from an upload and from a
local path, and a site's process on its ``ProcessBio`` (``FLOW_PROCESSES_RUNTIMES``). Everything of
resolwe-bio is used unchanged from the 65.1.1 release."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resolwe_prefect.cli.demo import ApiClient
from tests.support import pypi_cache

from .conftest import ADMIN_PASSWORD, PROCESSES, running_stack

pytestmark = pytest.mark.e2e

BIO_PROCESSES = Path(__file__).parent / "resolwe_bio_processes"
PROCESS_BIO = Path(__file__).parent / "resolwe_bio_site" / "process_bio.py"
TIMEOUT = 180


@pytest.fixture(scope="module")
def resolwe_bio() -> Path:
    try:
        return pypi_cache.distribution("resolwe-bio", "65.1.1") / "resolwe_bio"
    except pypi_cache.Unavailable as error:
        pytest.skip(f"resolwe-bio 65.1.1 is not cached and PyPI is unreachable: {error}")


@pytest.fixture(scope="module")
def bio(resolwe_bio, tmp_path_factory):
    """``(client, imports directory)`` of a stack that runs resolwe-bio's tools and our two test processes."""
    work = tmp_path_factory.mktemp("bio")
    imports = work / "imports"
    imports.mkdir()
    # A site's app beside resolwe-bio's process runtime: resolwe_bio/process/ as released, and a
    # processes/ directory holding the site's ProcessBio process.
    site = work / "site" / "resolwe_bio"
    shutil.copytree(resolwe_bio / "process", site / "process")
    shutil.copy(resolwe_bio / "__init__.py", site / "__init__.py")
    (site / "processes").mkdir()
    shutil.copy(PROCESS_BIO, site / "processes" / PROCESS_BIO.name)
    settings = {
        "RESOLWE_CUSTOM_TOOLS_PATHS": [str(resolwe_bio / "tools")],
        "FLOW_TOOLS_ROOT": str(work / "tools"),
        "FLOW_PROCESSES_RUNTIMES": ["resolwe.process.runtime.Process", "resolwe_bio.process.runtime.ProcessBio"],
    }
    env = {
        "RESOLWE_PREFECT_SETTINGS": json.dumps(settings),
        "RESOLWE_PREFECT_IMPORT_ROOTS": str(imports),
        "RESOLWE_PREFECT_PROCESS_PATHS": os.pathsep.join([str(PROCESSES), str(BIO_PROCESSES), str(site / "processes")]),
    }
    with running_stack("bio", env) as up:

        def manage(*args: str) -> None:
            subprocess.run([sys.executable, "-m", "resolwe_prefect.cli", "manage", *args], env=up.env,
                           check=True, capture_output=True, text=True, timeout=300)  # fmt: skip

        manage("collecttools")  # as a site does after installing an app
        imports_dir = resolwe_bio / "processes" / "import_data"
        manage(
            "register", "--file", str(imports_dir / "mappability_tab.yml"), "--file", str(imports_dir / "cuffquant.yml")
        )
        yield ApiClient(up.info["api"], "admin", ADMIN_PASSWORD), imports


def _run(client: ApiClient, slug: str, inputs: dict) -> dict:
    data = client.create_data(slug, inputs)
    return client.wait([data["id"]], TIMEOUT)[data["id"]]


def test_a_resolwe_bio_tool_and_the_sample_filters_work_in_a_process(bio):
    client, _imports = bio
    reads = _run(client, "e2e-bio-sample", {})
    assert reads["status"] == "OK", reads["process_error"]
    sample = client.session.get(f"{client.base_url}/api/entity/{reads['entity']['id']}", timeout=30).json()
    final = _run(client, "e2e-bio-tools", {"reads": reads["id"]})
    assert final["status"] == "OK", final["process_error"]
    # parse_library_type.py (resolwe-bio's tools/) reported through resolwe_runtime_utils.
    assert (final["output"]["strandedness"], final["output"]["fragment_ratio"]) == ("ISR", 0.93)
    assert final["output"]["sample"] == sample["name"]


def test_upload_mappability_from_a_local_path(bio):
    client, imports = bio
    source = imports / "hg38_mappability.tab.gz"
    source.write_bytes(gzip.compress(b"chr2\t0.25\n"))
    final = _run(client, "upload-mappability", {"src": {"file": source.name, "file_temp": str(source)}})
    stdout = client.session.get(f"{client.base_url}/data/{final['id']}/stdout.txt", timeout=30).text
    assert final["status"] == "OK", (final["process_error"], stdout[-2000:])
    assert final["output"]["mappability"]["file"] == "hg38_mappability.tab"
    served = client.session.get(f"{client.base_url}/data/{final['id']}/hg38_mappability.tab", timeout=30)
    assert served.content == b"chr2\t0.25\n"
    assert source.exists(), "the imported file stays where it was"


def test_a_process_on_resolwe_bio_s_process_bio_runs(bio):
    """``from resolwe_bio.process.runtime import ProcessBio`` works in the program: the package is in its runtime."""
    client, _imports = bio
    final = _run(client, "e2e-bio-runtime", {"greeting": "hello"})
    assert final["status"] == "OK", final["process_error"]
    assert final["output"]["models"] == "Feature,Mapping,Variant,VariantCall"
    assert final["output"]["shout"] == "HELLO"
    assert final["output"]["own"] == 1


@pytest.mark.parametrize("origin", ["upload", "local path"])
def test_upload_cxb(bio, origin, tmp_path):
    """upload-cxb: ``re-import ... "cxb" "cxb" 1.0 extract`` then ``re-save-file cxb "${NAME}.cxb"``."""
    client, imports = bio
    content = b"CXB\x00binary cuffquant abundances\n"
    if origin == "upload":
        path = tmp_path / "liver.cxb"
        path.write_bytes(content)
        src = client.upload(path)
    else:
        path = imports / "kidney.cxb"
        path.write_bytes(content)
        src = {"file": path.name, "file_temp": str(path)}
    inputs = {"src": src, "source": "ENSEMBL", "species": "Homo sapiens", "build": "GRCh38"}
    final = _run(client, "upload-cxb", inputs)
    assert final["status"] == "OK", final["process_error"]
    assert final["output"]["cxb"]["file"] == path.name
    assert (final["output"]["feature_type"], final["output"]["build"]) == ("gene", "GRCh38")
    served = client.session.get(f"{client.base_url}/data/{final['id']}/{path.name}", timeout=30)
    assert served.content == content
