"""Docker images: list_docker_images, pulling with --pull and by the pull policy, against a real
local registry (Debian's docker-registry package; scripts/ensure-docker.sh installs it)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from resolwe_prefect.execution.backends import ProgramJob
from resolwe_prefect.execution.backends.docker import DockerBackend
from resolwe_prefect.execution.backends.images import map_image
from tests.data.conftest import make_process

from .test_docker_backend import IMAGE as BASE
from .test_docker_backend import _engine

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def registry():
    """``127.0.0.1:<port>``: a registry of our own, without authentication (the engine trusts loopback)."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("Debian's docker-registry is not installed (scripts/ensure-docker.sh installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(tempfile.mkdtemp(prefix="resolwe-registry-"))
    config = root / "config.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    server = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("the local registry did not start")
        time.sleep(0.2)
    yield f"127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pushed(registry):
    """An image that exists only in the registry: pushed, then removed from the engine."""
    client = _engine()
    image = f"{registry}/resolwe-test/base:{uuid.uuid4().hex[:8]}"
    client.images.get(BASE).tag(image)
    for line in client.images.push(image, stream=True, decode=True):
        assert "error" not in line, line
    client.images.remove(image)
    yield image
    try:
        client.images.remove(image)
    except Exception:  # noqa: BLE001
        pass


def test_images_of_active_processes_are_listed_mapped_and_machine_readable(admin, settings):
    settings.FLOW_CONTAINER_IMAGE_MAP = {"public.ecr.aws/s4q6j6e8/": "mirror.example/"}
    make_process(admin, "a", requirements={"executor": {"docker": {"image": "public.ecr.aws/s4q6j6e8/resolwe/base:x"}}})
    make_process(admin, "b", requirements={"executor": {"docker": {"image": "other/image:1"}}}, is_active=False)
    make_process(admin, "c")
    out = StringIO()
    call_command("list_docker_images", "--format", "json", stdout=out)
    assert json.loads(out.getvalue()) == sorted(
        ["mirror.example/resolwe/base:x", settings.FLOW_EXECUTOR["DOCKER_DEFAULT_IMAGE"]]
    )
    out = StringIO()
    call_command("list_docker_images", stdout=out)
    assert out.getvalue().split() == json.loads(
        json.dumps(sorted(["mirror.example/resolwe/base:x", settings.FLOW_EXECUTOR["DOCKER_DEFAULT_IMAGE"]]))
    )
    with pytest.raises(CommandError, match="Unknown output format"):
        call_command("list_docker_images", "--format", "xml")
    assert map_image("elsewhere/x:1") == "elsewhere/x:1"


def test_pull_fetches_every_image_from_the_registry(admin, settings, pushed):
    # The default image is built locally here (no public registry): let it be the pushed one.
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DOCKER_DEFAULT_IMAGE": pushed}
    make_process(admin, "from-registry", requirements={"executor": {"docker": {"image": pushed}}})
    out = StringIO()
    call_command("list_docker_images", "--pull", stdout=out)
    assert f"Docker image '{pushed}' pulled successfully!" in out.getvalue()
    _engine().images.get(pushed)


def test_a_missing_image_fails_the_pull_unless_errors_are_ignored(admin, settings, registry):
    missing = f"{registry}/resolwe-test/absent:1"
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DOCKER_DEFAULT_IMAGE": missing}
    make_process(admin, "absent", requirements={"executor": {"docker": {"image": missing}}})
    with pytest.raises(CommandError, match="Failed to pull Docker image"):
        call_command("list_docker_images", "--pull", stdout=StringIO())
    err = StringIO()
    call_command("list_docker_images", "--pull", "--ignore-pull-errors", stdout=StringIO(), stderr=err)
    assert missing in err.getvalue()


def _run(settings, image: str, policy: str):
    top = Path(tempfile.mkdtemp(prefix="resolwe-docker-pull-"))
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": top / "data", "DOCKER_PULL_POLICY": policy}
    data_dir, runtime_dir = top / "data" / "5", top / "runtime" / "5"
    for path in (data_dir, runtime_dir / "tmp"):
        path.mkdir(parents=True)
    job = ProgramJob(data_id=5, script="echo pulled-and-ran\n", data_dir=data_dir, runtime_dir=runtime_dir,
                     env={"PATH": "/usr/bin:/bin"}, image=image)  # fmt: skip
    lines: list[str] = []
    result = asyncio.run(DockerBackend(_engine()).run(job, lines.append))
    return result, "".join(lines)


def test_the_pull_policy_decides_whether_a_run_pulls_its_image(settings, pushed):
    result, _output = _run(settings, pushed, "Never")
    assert result.return_code == 1 and "is not available on this host" in result.message
    result, output = _run(settings, pushed, "IfNotPresent")
    assert result.return_code == 0, result.message
    assert "pulled-and-ran" in output
    missing = pushed.rsplit(":", 1)[0] + ":never-pushed"
    result, _output = _run(settings, missing, "IfNotPresent")
    assert result.return_code == 1
    assert f"Docker image {missing!r} is not available on this host and could not be pulled" in result.message


def test_a_missing_image_is_pulled_on_first_use_by_default(settings):
    """As Resolwe's Docker executor (docker-py's ``containers.run`` pulls a missing image)."""
    from resolwe_prefect.execution.backends.images import pull_policy

    executor = {key: value for key, value in settings.FLOW_EXECUTOR.items() if key != "DOCKER_PULL_POLICY"}
    settings.FLOW_EXECUTOR = executor
    assert pull_policy() == "IfNotPresent"
    settings.FLOW_EXECUTOR = {**executor, "DOCKER_PULL_POLICY": "Sometimes"}
    with pytest.raises(ValueError, match="must be one of Never, IfNotPresent, Always"):
        pull_policy()
