"""Tools directories on the program's PATH (Resolwe's RESOLWE_CUSTOM_TOOLS_PATHS, FLOW_TOOLS_ROOT, collecttools).

The local and Docker variants run a real program that calls a tool by name; the Kubernetes one
renders and validates the Job.
"""

from __future__ import annotations

import asyncio
import tempfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from resolwe_prefect.execution.backends import ProgramJob, get_backend
from resolwe_prefect.execution.backends.tools import TOOLS_MOUNT, tools_dirs, tools_mounts

from .kubernetes_manifests import make_job, mounts, validate


def _tools(root: Path, name: str, tool: str, text: str) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    script = directory / tool
    script.write_text(f'#!/bin/sh\necho {text} "$@"\n')
    script.chmod(0o755)
    return directory


@pytest.fixture
def tools(settings):
    """Two custom tools directories in a private (0700) directory, as a site's checkout might be."""
    top = Path(tempfile.mkdtemp(prefix="resolwe-tools-test-"))
    first, second = _tools(top, "bio", "fastqc.sh", "fastqc from bio"), _tools(top, "site", "site-tool", "site")
    settings.RESOLWE_CUSTOM_TOOLS_PATHS = [str(first), str(top / "missing"), str(second), str(first)]
    settings.FLOW_TOOLS_ROOT = None
    return first, second


def test_custom_paths_in_order_without_missing_or_repeated_ones(tools):
    assert tools_dirs() == list(tools)
    assert [mount for _host, mount in tools_mounts()] == [f"{TOOLS_MOUNT}/0", f"{TOOLS_MOUNT}/1"]


def test_collecttools_gathers_them_into_the_tools_root(tools, settings, tmp_path):
    settings.FLOW_TOOLS_ROOT = str(tmp_path / "tools-root")
    out = StringIO()
    call_command("collecttools", stdout=out)
    collected = tools_dirs()
    assert [path.name for path in collected] == ["00-bio", "01-site"]
    assert (collected[0] / "fastqc.sh").read_text() == (tools[0] / "fastqc.sh").read_text()
    assert "2 tools directories" in out.getvalue()
    settings.FLOW_TOOLS_ROOT = None
    with pytest.raises(CommandError, match="FLOW_TOOLS_ROOT"):
        call_command("collecttools", stdout=StringIO())


def _run(backend_name: str, data_root: Path, script: str) -> tuple[int, str]:
    backend = get_backend(backend_name)
    data_dir, runtime_dir = data_root / "3", data_root.parent / "runtime" / "3"
    (runtime_dir / "tmp").mkdir(parents=True)
    data_dir.mkdir(parents=True)
    path = ":".join(["/opt/resolwe/bin", *backend.tools_path(), "/usr/bin:/bin"])
    env = {"PATH": path, "PYTHONPATH": backend.python_path(), "RESOLWE_COMMANDS_FILE": "/runtime/commands"}
    job = ProgramJob(data_id=3, script=script, data_dir=data_dir, runtime_dir=runtime_dir, env=env)
    lines: list[str] = []
    result = asyncio.run(backend.run(job, lines.append))
    return result.return_code, "".join(lines)


def test_a_sandboxed_local_program_calls_tools_by_name_and_cannot_change_them(tools, settings):
    top = Path(tempfile.mkdtemp(prefix="resolwe-tools-run-"))
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": top / "data", "SANDBOX": "bwrap", "RUN_AS": ""}
    rc, output = _run(
        "local", top / "data", 'fastqc.sh -v; site-tool; echo x > "$(command -v site-tool)" || echo refused'
    )
    assert rc == 0, output
    assert [line for line in output.splitlines() if "Read-only" not in line] == [
        "fastqc from bio -v",
        "site",
        "refused",
    ]


def test_a_docker_program_calls_tools_by_name(tools, settings):
    try:
        import docker

        docker.from_env().images.get("resolwe-prefect/base:bookworm-py")
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"no Docker engine with the base image: {error}")
    top = Path(tempfile.mkdtemp(prefix="resolwe-tools-run-"))
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": top / "data",
                              "DOCKER_DEFAULT_IMAGE": "resolwe-prefect/base:bookworm-py"}  # fmt: skip
    rc, output = _run(
        "docker", top / "data", 'fastqc.sh -v; site-tool; echo x > "$(command -v site-tool)" || echo refused'
    )
    assert rc == 0, output
    assert [line for line in output.splitlines() if "Read-only" not in line] == [
        "fastqc from bio -v",
        "site",
        "refused",
    ]


def test_a_pod_gets_the_tools_root_from_the_shared_volume(volume, settings):
    root = volume / "tools"
    _tools(root, "00-bio", "fastqc.sh", "fastqc")
    settings.FLOW_TOOLS_ROOT = str(root)
    manifest = get_backend("kubernetes").job_manifest(make_job(volume))
    validate(manifest)
    assert mounts(manifest)[f"{TOOLS_MOUNT}/0"] == {
        "name": "data", "mountPath": f"{TOOLS_MOUNT}/0", "subPath": "tools/00-bio", "readOnly": True,
    }  # fmt: skip
    assert get_backend("kubernetes").tools_path() == [f"{TOOLS_MOUNT}/0"]


def test_a_python_tool_reports_through_resolwe_runtime_utils(tools, settings):
    """resolwe-bio's tools: ``send_message(save(...))``, ``send_message(warning(...))``, no credentials needed."""
    from resolwe_prefect.runtime import Command, CommandReader

    script = tools[1] / "report.py"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "from resolwe_runtime_utils import save, send_message, warning\n"
        "send_message(save('strandedness', 'IU'))\n"
        "send_message(warning('No down-regulated genes.'))\n"
    )
    script.chmod(0o755)
    top = Path(tempfile.mkdtemp(prefix="resolwe-tools-run-"))
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": top / "data", "SANDBOX": "bwrap", "RUN_AS": ""}
    rc, output = _run("local", top / "data", "report.py")
    assert rc == 0, output
    records = CommandReader(top / "runtime" / "3" / "commands").read_new()
    assert records == [Command("save", ("strandedness", "IU")), Command("warning", ("No down-regulated genes.",))]
