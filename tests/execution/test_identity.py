"""Who owns a run's files: the program while it runs, we once it ends (``backends/identity.py``)."""

from __future__ import annotations

import os

import pytest

from resolwe_prefect.execution.backends.identity import (
    DEFAULT_RUN_UID_BASE,
    ProgramIdentity,
    give_to_program,
    identity_files,
    program_identity,
    seal,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")


def test_every_run_has_its_own_identity_unless_one_is_pinned(settings):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "RUN_UID_BASE": DEFAULT_RUN_UID_BASE}
    assert program_identity(5) == ProgramIdentity(DEFAULT_RUN_UID_BASE + 5, DEFAULT_RUN_UID_BASE + 5)
    assert program_identity(5).uid != program_identity(6).uid
    assert program_identity(5).uid < 2**31 - 1  # Kubernetes' runAsUser limit
    assert program_identity(5, "1234:99") == ProgramIdentity(1234, 99, "resolwe")
    assert program_identity(5, "nobody").uid == 65534


def test_identity_files_name_the_run(tmp_path):
    passwd, group = identity_files(ProgramIdentity(1_000_000_005, 1_000_000_005), tmp_path)
    assert "resolwe:x:1000000005:1000000005:" in passwd.read_text()
    assert "resolwe:x:1000000005:" in group.read_text()


@needs_root
def test_program_owns_its_directories_while_it_runs_and_nothing_after(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "file").write_text("x")
    identity = ProgramIdentity(1_000_000_007, 1_000_000_007)
    give_to_program(identity, data)
    assert {p.stat().st_uid for p in [data, data / "sub", data / "sub" / "file"]} == {identity.uid}
    (data / "private").write_text("y")
    (data / "private").chmod(0o600)
    seal(data)
    for path in (data, data / "sub", data / "sub" / "file", data / "private"):
        assert path.stat().st_uid == 0
    assert (data / "private").stat().st_mode & 0o777 == 0o644  # its dependants read it through their input mount
    assert (data / "sub").stat().st_mode & 0o777 == 0o755


def test_seal_removes_special_files_and_never_follows_links(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    outside.chmod(0o600)
    os.mkfifo(data / "fifo")
    (data / "link").symlink_to(outside)
    seal(data)
    assert not (data / "fifo").exists() and (data / "link").is_symlink()
    assert outside.stat().st_mode & 0o777 == 0o600
