"""The local backend: a sandboxed program with exactly the environment and the files it is given.

The attacks are written from the program's side: a hostile program tries to
read our state, another run's files and the host's processes, to leave a
process behind, and to reach services on the host's loopback.
"""

import asyncio
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from resolwe_prefect.execution.backends import ProgramJob, get_backend
from resolwe_prefect.execution.backends.identity import DEFAULT_RUN_UID_BASE

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="per-run identities need root")


def run(job: ProgramJob) -> tuple[int, str | None, list[str]]:
    lines: list[str] = []
    result = asyncio.run(get_backend("local").run(job, lines.append))
    return result.return_code, result.message, lines


def job(tmp_path: Path, script: str, data_id: int = 1, **kwargs) -> ProgramJob:
    data_dir, runtime_dir = tmp_path / "data" / str(data_id), tmp_path / "runtime" / str(data_id)
    data_dir.mkdir(parents=True)
    runtime_dir.mkdir(parents=True)
    return ProgramJob(
        data_id=data_id,
        script=script,
        data_dir=data_dir,
        runtime_dir=runtime_dir,
        env={"PATH": "/usr/bin:/bin", "ONLY": "this"},
        **kwargs,
    )


@pytest.fixture(autouse=True)
def data_root(settings, tmp_path):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "DATA_DIR": tmp_path / "data", "SANDBOX": "bwrap", "RUN_AS": ""}


def test_stdout_and_stderr_are_streamed_and_rc_returned(tmp_path):
    rc, message, lines = run(job(tmp_path, "echo out; echo err >&2; pwd; exit 4"))
    assert rc == 4 and message is None
    assert lines[:2] == ["out\n", "err\n"]
    assert lines[2].strip() == "/data"


def test_environment_is_only_what_the_job_gives(tmp_path):
    _rc, _message, lines = run(job(tmp_path, "env | cut -d= -f1 | sort"))
    names = {line.strip() for line in lines}
    assert {"PATH", "ONLY"} <= names
    assert not {n for n in names if n.startswith(("PREFECT", "DATABASE", "DJANGO"))}


def test_timeout_kills_the_program(tmp_path):
    rc, message, _lines = run(job(tmp_path, "sleep 30", timeout=0.5))
    assert rc != 0
    assert "time limit" in message


@needs_root
def test_each_run_has_its_own_unprivileged_identity_that_resolves_by_name(tmp_path):
    rc, message, lines = run(
        job(tmp_path, 'id -u; id -g; getent passwd "$(id -u)" | cut -d: -f1; touch made-here', data_id=7)
    )
    assert (rc, message) == (0, None)
    assert [line.strip() for line in lines] == [str(DEFAULT_RUN_UID_BASE + 7)] * 2 + ["resolwe"]
    # The finished program's identity owns nothing any more, and its files are readable for its dependants.
    made = tmp_path / "data" / "7" / "made-here"
    assert made.stat().st_uid == 0 and made.stat().st_mode & 0o777 == 0o644


@needs_root
def test_a_private_home_is_no_obstacle(tmp_path):
    """A state directory inside a 0700 home: the program still reaches its own directories."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    rc, message, lines = run(job(home, "echo inside > out.txt && cat out.txt && ls /data"))
    assert (rc, message) == (0, None), lines
    assert "inside\n" in lines


def test_program_cannot_see_state_other_runs_or_host_processes(tmp_path):
    (tmp_path / "db.sqlite3").write_text("the database")
    other = job(tmp_path, "true", data_id=2)
    (other.data_dir / "private.txt").write_text("another user's data")
    probe = (
        f"cat {tmp_path}/db.sqlite3; cat {other.data_dir}/private.txt; cat ../2/private.txt; ls /inputs;"
        "ps -e -o pid= | wc -l; ls /proc | grep -c '^[0-9]'; ls / | tr '\\n' ' '; echo"
    )
    rc, _message, lines = run(job(tmp_path, probe, data_id=1))
    text = "".join(lines)
    assert "the database" not in text and "another user's data" not in text
    # Only the program's own few processes exist in its PID namespace.
    counts = [int(line) for line in lines if line.strip().isdigit()]
    assert counts and max(counts) < 10, text
    assert "root" not in lines[-1].split() and "home" not in lines[-1].split()


@needs_root
def test_inputs_are_read_only_and_other_data_invisible(tmp_path):
    source = job(tmp_path, "true", data_id=3)
    (source.data_dir / "in.txt").write_text("input\n")
    stranger = job(tmp_path, "true", data_id=4)
    (stranger.data_dir / "secret.txt").write_text("stranger")
    script = "cat /inputs/3/in.txt; echo changed > /inputs/3/in.txt || echo refused; ls /inputs"
    rc, _message, lines = run(job(tmp_path, script, data_id=5, input_dirs=[source.data_dir]))
    text = "".join(lines)
    assert "input\n" in text and "refused\n" in text and "4" not in lines[-1].split()
    assert (source.data_dir / "in.txt").read_text() == "input\n"


def test_tmp_is_private(tmp_path):
    marker = Path("/tmp") / f"resolwe-sandbox-probe-{os.getpid()}"
    rc, _message, lines = run(job(tmp_path, f"touch /tmp/mine && echo ok; touch {marker}; ls /tmp"))
    assert "ok\n" in lines
    assert not marker.exists()


def test_no_process_outlives_its_program(tmp_path):
    """A background child that keeps writing is gone once the program has ended."""
    script = (
        "(while true; do date +%s%N >> ticks; sleep 0.1; done) & disown; setsid sleep 300 &"
        " while [ ! -s ticks ]; do sleep 0.05; done; echo started"
    )
    data = job(tmp_path, script)
    rc, _message, lines = run(data)
    assert rc == 0 and "started\n" in lines
    ticks = data.data_dir / "ticks"
    size = ticks.stat().st_size
    time.sleep(0.5)
    assert ticks.stat().st_size == size


def test_killed_program_takes_its_processes_along(tmp_path):
    data = job(tmp_path, "(while true; do echo x >> ticks; sleep 0.1; done) & sleep 300")

    async def cancel_after_start() -> None:
        task = asyncio.create_task(get_backend("local").run(data, lambda line: None))
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_after_start())
    size = (data.data_dir / "ticks").stat().st_size
    time.sleep(0.5)
    assert (data.data_dir / "ticks").stat().st_size == size


def _listening_server() -> tuple[HTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"internal service")

        def log_message(self, *args):
            pass

    server = HTTPServer(("0.0.0.0", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _host_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent; this picks the outgoing interface
        return probe.getsockname()[0]


def test_no_network_without_the_resource(tmp_path):
    server, port = _listening_server()
    try:
        script = f"curl -s --max-time 3 http://{_host_address()}:{port}/ || echo unreachable"
        _rc, _message, lines = run(job(tmp_path, script))
    finally:
        server.shutdown()
    assert "unreachable\n" in lines and "internal service" not in "".join(lines)


def test_network_resource_reaches_out_but_not_the_hosts_loopback(tmp_path):
    server, port = _listening_server()
    try:
        script = (
            f"curl -s --max-time 5 http://{_host_address()}:{port}/; echo;"
            f"curl -s --max-time 3 http://127.0.0.1:{port}/ || echo loopback-refused;"
            f"curl -s --max-time 3 http://10.0.2.2:{port}/ || echo gateway-refused"
        )
        rc, message, lines = run(job(tmp_path, script, network=True))
    finally:
        server.shutdown()
    assert message is None, message
    assert lines[0] == "internal service\n"
    assert "loopback-refused\n" in lines and "gateway-refused\n" in lines


@needs_root
def test_secrets_are_mounted_read_only(tmp_path):
    data = job(tmp_path, "cat /secrets/token; echo x > /secrets/token || echo read-only")
    secrets = data.runtime_dir / "secrets"
    secrets.mkdir()
    (secrets / "token").write_text("s3cret\n")
    data.secrets_dir = secrets
    _rc, _message, lines = run(data)
    assert lines[0] == "s3cret\n" and "read-only\n" in lines


def test_without_sandbox_programs_run_on_host_paths(settings, tmp_path):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "SANDBOX": "none"}
    data = job(tmp_path, "pwd")
    rc, _message, lines = run(data)
    assert rc == 0 and lines[-1].strip() == str(data.data_dir)


def test_site_read_only_paths_are_visible_even_under_tmp(settings, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "tool.txt").write_text("from the site\n")
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "SANDBOX_READ_ONLY_PATHS": [str(shared)]}
    script = f"cat {shared}/tool.txt; echo x > {shared}/new || echo read-only; touch /tmp/mine && echo tmp-writable"
    rc, _message, lines = run(job(tmp_path, script))
    assert lines[0] == "from the site\n" and "read-only\n" in lines and "tmp-writable\n" in lines


def test_python_jobs_see_the_runtime_read_only_at_opt_resolwe_python(tmp_path, stub_python_runtime):
    python = job(tmp_path, "ls /opt/resolwe/python; ls /opt/resolwe/python/resolwe/process; touch /opt/resolwe/python/resolwe/x",
                 language="python")  # fmt: skip
    rc, _message, lines = run(python)
    listed = [line.strip() for line in lines]
    assert listed[:4] == ["resolwe", "__init__.py", "__pycache__", "run.py"], lines
    assert rc != 0 and any("Read-only file system" in line for line in lines), lines
    rc, _message, lines = run(job(tmp_path, "ls /python_runtime", data_id=2, language="python"))
    assert [line.strip() for line in lines] == ["resolwe"], "also where Resolwe mounts it"
    rc, _message, lines = run(job(tmp_path, "ls /opt/resolwe; ls / | grep -c python", data_id=3))
    assert [line.strip() for line in lines] == ["bin", "0"], "bash programs get no Python runtime"
    assert get_backend("local").python_path() == "/opt/resolwe/python"


def test_without_sandbox_the_python_path_is_the_runtimes_own_directories(settings, stub_python_runtime):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "SANDBOX": "none"}
    assert get_backend("local").python_path() == str(stub_python_runtime)
