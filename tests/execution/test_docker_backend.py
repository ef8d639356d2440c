"""The Docker backend against the real engine: limits, mounts, user, network, OOM and removal.

Needs a running Docker engine and the locally built base image
(``scripts/ensure-docker.sh`` provides both; ``make test`` runs it first).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from resolwe_prefect.execution.backends import ProgramJob
from resolwe_prefect.execution.backends.docker import DockerBackend
from resolwe_prefect.execution.backends.identity import DEFAULT_RUN_UID_BASE

IMAGE = "resolwe-prefect/base:bookworm-py"


def _engine():
    try:
        import docker

        client = docker.from_env()
        client.images.get(IMAGE)
        return client
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"no Docker engine with {IMAGE}: {error}")


@pytest.fixture
def backend():
    return DockerBackend(_engine())


@pytest.fixture
def dirs(settings):
    top = Path(tempfile.mkdtemp(prefix="resolwe-docker-test-"))  # private (0700), like a home
    data_root = top / "data"
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": data_root, "DOCKER_DEFAULT_IMAGE": IMAGE}
    data_dir, runtime_dir, input_dir = data_root / "2", top / "runtime" / "2", data_root / "1"
    for path in (data_dir, runtime_dir / "tmp", input_dir):
        path.mkdir(parents=True)
    (input_dir / "in.txt").write_text("from the input\n")
    return data_dir, runtime_dir, input_dir


def run(backend, dirs, script: str, **options):
    data_dir, runtime_dir, input_dir = dirs
    job = ProgramJob(
        data_id=2,
        script=script,
        data_dir=data_dir,
        runtime_dir=runtime_dir,
        env={"PATH": "/opt/resolwe/bin:/usr/bin:/bin", "HOME": "/data"},
        input_dirs=[input_dir],
        **options,
    )
    lines: list[str] = []
    result = asyncio.run(backend.run(job, lines.append))
    return result, "".join(lines)


def test_program_runs_as_its_own_identity_with_its_mounts(backend, dirs):
    script = 'id -u; pwd; cat /inputs/1/in.txt; getent passwd "$(id -u)" | cut -d: -f1; echo out > result.txt; ls /opt/resolwe/bin/re-save'
    result, output = run(backend, dirs, script)
    assert result.return_code == 0, output
    assert output.splitlines()[:4] == [str(DEFAULT_RUN_UID_BASE + 2), "/data", "from the input", "resolwe"]
    assert (dirs[0] / "result.txt").read_text() == "out\n"
    # Taken back once the program ended: its identity owns nothing, and dependants can read the file.
    assert (dirs[0] / "result.txt").stat().st_uid == 0


def test_program_has_no_capabilities_and_cannot_gain_any(backend, dirs):
    result, output = run(backend, dirs, "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status")
    fields = dict(line.split(":\t") for line in output.splitlines())
    assert fields["CapEff"] == fields["CapBnd"] == "0000000000000000" and fields["NoNewPrivs"] == "1", output


def test_no_process_outlives_the_program(backend, dirs):
    # The program ends only once its child has written, so the child is known to have run.
    script = (
        "(while true; do echo tick >> ticks; sleep 0.1; done) & disown; setsid sleep 300 &"
        " while [ ! -s ticks ]; do sleep 0.05; done; echo started"
    )
    result, output = run(backend, dirs, script)
    assert result.return_code == 0 and "started" in output
    size = (dirs[0] / "ticks").stat().st_size
    import time

    time.sleep(0.5)
    assert (dirs[0] / "ticks").stat().st_size == size
    assert not backend.client.containers.list(all=True, filters={"label": "resolwe.data_id=2"})


def test_inputs_are_read_only_and_network_is_off(backend, dirs):
    # touch's complaint goes to stderr, whose order against stdout the container log does not keep.
    result, output = run(
        backend, dirs, "touch /inputs/1/x 2>/dev/null || echo read-only; awk -F: 'NR > 2 {print $1}' /proc/net/dev"
    )
    assert result.return_code == 0, output
    assert "read-only" in output
    assert output.splitlines()[-1].strip() == "lo"


def test_limits_reach_the_container(backend, dirs):
    job = ProgramJob(data_id=2, script="true", data_dir=dirs[0], runtime_dir=dirs[1], env={}, cores=2, memory_mb=300)
    options = backend.container_options(job)
    assert options["nano_cpus"] == 2_000_000_000
    assert options["mem_limit"] == options["memswap_limit"] == "300m"
    assert options["network_mode"] == "none"


def test_out_of_memory_is_reported(backend, dirs):
    result, _output = run(backend, dirs, "yes | tr \\\\n x | head -c $((1024*1024*200)) | grep n", memory_mb=16)
    assert result.return_code != 0
    assert result.message and "out of memory" in result.message


def test_time_limit_kills_and_removes_the_container(backend, dirs):
    result, _output = run(backend, dirs, "sleep 30", timeout=1)
    assert "time limit" in result.message
    assert not backend.client.containers.list(all=True, filters={"label": "resolwe.data_id=2"})


def test_missing_image_is_an_error_not_a_crash(backend, dirs, settings):
    """Pulled on first use by default (no registry answers here); with the policy Never, create says so."""
    image = "resolwe-prefect/does-not-exist:1"
    result, _output = run(backend, dirs, "true", image=image)
    assert result.return_code != 0
    assert f"Docker image {image!r} is not available on this host and could not be pulled" in result.message
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DOCKER_PULL_POLICY": "Never"}
    result, _output = run(backend, dirs, "true", image=image)
    assert result.return_code != 0
    assert "Could not create the container" in result.message and "DOCKER_PULL_POLICY is Never" in result.message


def test_python_jobs_get_the_runtime_mounted_read_only(dirs, stub_python_runtime):
    data_dir, runtime_dir, _input_dir = dirs
    job = ProgramJob(data_id=2, script="", data_dir=data_dir, runtime_dir=runtime_dir, env={}, language="python")
    options = DockerBackend(client=object()).container_options(job)
    assert options["volumes"][str(stub_python_runtime)] == {"bind": "/opt/resolwe/python", "mode": "ro"}
    (resolwes,) = options["mounts"]  # and where Resolwe mounts it
    assert (resolwes["Target"], resolwes["Source"], resolwes["ReadOnly"]) == (
        "/python_runtime",
        str(stub_python_runtime),
        True,
    )
    bash = DockerBackend(client=object()).container_options(ProgramJob(2, "", data_dir, runtime_dir, env={}))
    assert str(stub_python_runtime) not in bash["volumes"] and bash["mounts"] == []
    assert DockerBackend(client=object()).python_path() == "/opt/resolwe/python"
    assert DockerBackend(client=object()).channel_endpoint() is None
