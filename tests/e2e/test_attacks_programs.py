"""Hostile programs on the real stack, on the local and the Docker backend.

Each test is an attack a user could make with a process of their own (or
through a tool with a hole in it): read the stack's state and another
user's Data, change another user's files, leave a process running, keep
running after its Data object is deleted, reach the services on the host's
loopback. A program may only see its own Data directory, its inputs
(read-only), the runtime and its declared secrets.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from resolwe_prefect.cli.demo import ApiClient

from .conftest import ADMIN_PASSWORD, PROCESSES, Stack, running_stack

pytestmark = pytest.mark.e2e

PASSWORD = "attacker-password"


def _docker_available() -> bool:
    try:
        found = subprocess.run(
            ["docker", "image", "inspect", "resolwe-prefect/base:bookworm-py"], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0


@pytest.fixture(scope="module")
def docker_stack():
    if not _docker_available():
        pytest.skip("Docker or the image resolwe-prefect/base:bookworm-py is not available")
    with running_stack(
        "attacks", {"RESOLWE_PREFECT_BACKEND": "docker", "RESOLWE_PREFECT_PROCESS_PATHS": str(PROCESSES)}
    ) as running:
        info = running.info
        yield Stack(info["api"], info["prefect_api"], running.home, ApiClient(info["api"], "admin", ADMIN_PASSWORD),
                    running.env, info["prefect_ui"])  # fmt: skip


@pytest.fixture(scope="module", params=["local", "docker"])
def target(request) -> Stack:
    """The stack under attack: the session's (local backend) or one on the Docker backend."""
    return request.getfixturevalue("stack" if request.param == "local" else "docker_stack")


def _user(stack: Stack, name: str) -> ApiClient:
    subprocess.run(
        [sys.executable, "-m", "resolwe_prefect.cli", "manage", "ensure_user", name, "--password", PASSWORD],
        env=stack.env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return ApiClient(stack.url, name, PASSWORD)


@pytest.fixture(scope="module")
def users(target: Stack) -> tuple[ApiClient, ApiClient]:
    """Two ordinary users: the attacker and the victim."""
    suffix = uuid.uuid4().hex[:6]
    return _user(target, f"mallory-{suffix}"), _user(target, f"victim-{suffix}")


def _share_hostile_processes(stack: Stack) -> None:
    for slug in ("e2e-hostile", "e2e-hostile-network"):
        process = stack.client.session.get(f"{stack.url}/api/process", params={"slug": slug}, timeout=30).json()[0]
        response = stack.client.session.post(
            f"{stack.url}/api/process/{process['id']}/permissions", json={"public": "view"}, timeout=30
        )
        assert response.status_code == 200, response.text


def _run(stack: Stack, client: ApiClient, script: str, *, network: bool = False, timeout: float = 120) -> dict:
    _share_hostile_processes(stack)
    slug = "e2e-hostile-network" if network else "e2e-hostile"
    data = client.create_data(slug, {"script": script})
    return client.wait([data["id"]], timeout)[data["id"]]


def _report(final: dict) -> str:
    return str((final.get("output") or {}).get("report", ""))


def _download(client: ApiClient, data_id: int, path: str) -> bytes:
    response = client.session.get(f"{client.base_url}/data/{data_id}/{path}", timeout=30)
    response.raise_for_status()
    return response.content


def _victims_file(stack: Stack, victim: ApiClient, content: str) -> dict:
    final = _run(stack, victim, f"printf %s {shlex.quote(content)} > secret.txt\nre-save-file file secret.txt")
    assert final["status"] == "OK", final["process_error"]
    return final


def test_program_cannot_read_the_stack_state_or_another_users_data(target, users):
    attacker, victim = users
    secret = f"victim-secret-{uuid.uuid4().hex}"
    theirs = _victims_file(target, victim, secret)
    home = target.home
    victim_paths = [
        f"{home}/data/{theirs['id']}/secret.txt", f"../{theirs['id']}/secret.txt", f"/inputs/{theirs['id']}/secret.txt",
        f"/data/../{theirs['id']}/secret.txt",
    ]  # fmt: skip
    state = [f"{home}/{name}" for name in ("secret-key", "prefect-auth", "admin-password", "worker.log", "api.log")]
    reads = "\n".join(f"cat {shlex.quote(path)} >> seen 2>&1" for path in [*victim_paths, *state])
    writes = "\n".join(f"printf tampered > {shlex.quote(path)} 2>>seen" for path in victim_paths)
    final = _run(target, attacker, f'touch seen\n{reads}\n{writes}\nre-save report "$(cat seen)"')
    report = _report(final)
    assert final["status"] == "OK", final["process_error"]
    assert secret not in report
    for name in ("secret-key", "prefect-auth"):
        assert (home / name).read_text().strip() not in report, f"the program read {name}"
    assert ADMIN_PASSWORD not in report
    for log in ("worker.log", "api.log"):
        assert not set((home / log).read_text(errors="replace").splitlines()[:5]) & set(report.splitlines())
    assert report.count("No such file or directory") == len(victim_paths) + len(state), report
    # The victim still downloads exactly what their program wrote.
    victim.login()
    assert _download(victim, theirs["id"], "secret.txt") == secret.encode()


def test_programs_run_as_distinct_unprivileged_identities(target, users):
    attacker, victim = users
    first = _run(target, attacker, 're-save report "$(id -u) $(id -g) $(id -G)"')
    second = _run(target, victim, 're-save report "$(id -u) $(id -g) $(id -G)"')
    one, two = _report(first).split(), _report(second).split()
    assert one[0] != "0" and two[0] != "0" and "0" not in one[1:] + two[1:]
    assert one[0] != two[0], "two users' programs ran as the same user"


def test_program_sees_only_its_own_processes_and_a_private_tmp(target, users):
    attacker, _victim = users
    marker = f"resolwe-e2e-tmp-{uuid.uuid4().hex}"
    final = _run(target, attacker, f"touch /tmp/{marker}; re-save report \"processes: $(ls /proc | grep -c '^[0-9]')\"")
    assert final["status"] == "OK", final["process_error"]
    assert int(_report(final).split()[-1]) < 10, "the program sees the host's processes"
    assert not list(__import__("pathlib").Path("/tmp").glob(marker))


def _host_processes(marker: str) -> list[str]:
    listed = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True)
    return [line for line in listed.stdout.splitlines() if "pgrep" not in line]


def test_no_process_outlives_its_program(target, users):
    attacker, _victim = users
    marker = f"resolwe-e2e-linger-{uuid.uuid4().hex}"
    script = (
        f"bash -c 'while true; do date +%s%N >> ticks; sleep 0.2; done' {marker} &\n"
        f"setsid bash -c 'sleep 600' {marker} &\n"
        "sleep 1\nre-save-file file ticks"
    )
    final = _run(target, attacker, script)
    assert final["status"] == "OK", final["process_error"]
    first = _download(attacker, final["id"], "ticks")
    time.sleep(1.5)
    assert _download(attacker, final["id"], "ticks") == first, "a child of the program kept writing"
    assert not _host_processes(marker)


def test_deleting_a_processing_data_object_stops_its_program(target, users):
    attacker, _victim = users
    marker = f"resolwe-e2e-deleted-{uuid.uuid4().hex}"
    _share_hostile_processes(target)
    script = f"bash -c 'while true; do sleep 0.2; done' {marker} &\nsetsid bash -c 'sleep 600' {marker} &\nwait"
    data = attacker.create_data("e2e-hostile", {"script": script})
    deadline = time.monotonic() + 120
    while not _host_processes(marker):
        assert time.monotonic() < deadline, "the program never started"
        time.sleep(0.3)
    response = attacker.session.delete(f"{attacker.base_url}/api/data/{data['id']}", timeout=30)
    assert response.status_code in (200, 204), response.text
    deadline = time.monotonic() + 30
    while _host_processes(marker):
        assert time.monotonic() < deadline, f"still running after the delete: {_host_processes(marker)}"
        time.sleep(0.5)
    assert attacker.session.get(f"{attacker.base_url}/api/data/{data['id']}", timeout=30).status_code == 404


def _host_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # sends nothing: picks the address of the outgoing interface
        return probe.getsockname()[0]


def test_network_program_cannot_reach_services_on_the_hosts_loopback(target, users):
    """The program's own loopback, the host as its gateway (slirp's 10.0.2.2, Docker's bridge) and the host's address."""
    attacker, _victim = users
    ports = {
        "prefect": urlsplit(target.prefect_ui).port, "api": urlsplit(target.url).port, "postgres": 5432,
    }  # fmt: skip
    gateway = "172.17.0.1" if target.env.get("RESOLWE_PREFECT_BACKEND") == "docker" else "10.0.2.2"
    hosts = f"127.0.0.1 {gateway} {_host_address()}"
    probes = "\n".join(
        f"for host in {hosts}; do "
        f"timeout 3 bash -c 'exec 3<>/dev/tcp/'$host'/{port}' 2>/dev/null && echo \"{name}:$host open\"; done"
        for name, port in ports.items()
    )
    final = _run(target, attacker, f'{probes} > seen 2>&1\nre-save report "$(cat seen)"', network=True)
    assert final["status"] == "OK", final["process_error"]
    assert "open" not in _report(final), _report(final)


def test_prefect_api_wants_its_credentials(stack):
    """The embedded Prefect server answers nobody without the stack's basic-auth string."""
    parts = urlsplit(stack.prefect_api)
    plain = urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))
    assert requests.post(f"{plain}/flow_runs/filter", json={}, timeout=30).status_code == 401
    assert requests.post(f"{stack.prefect_api}/flow_runs/filter", json={"limit": 1}, timeout=30).status_code == 200


def test_another_users_upload_handle_reads_as_missing(target, users, tmp_path):
    """The pentest: a handle copied from a shared Data input imported its owner's file under another name."""
    attacker, victim = users
    secret = tmp_path / "reads.fq"
    secret.write_text(f"victim-upload-{uuid.uuid4().hex}\n")
    handle = victim.upload(secret)["file_temp"]
    stolen = attacker.create_data("upload-file", {"src": {"file": "reads.fq", "file_temp": handle}})
    final = attacker.wait([stolen["id"]], 120)[stolen["id"]]
    assert final["status"] == "ER" and any("does not exist" in error for error in final["process_error"]), final
    mine = victim.create_data("upload-file", {"src": {"file": "reads.fq", "file_temp": handle}})
    assert victim.wait([mine["id"]], 120)[mine["id"]]["status"] == "OK"
