"""The host-side helper: the directory mounted at /opt/resolwe/python."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from resolwe_prefect.runtime import python_runtime
from resolwe_prefect.runtime.python_runtime import (
    PYTHON_MOUNT,
    package_dir,
    plumbum_dir,
    program_env,
    runner_command,
    runtime_dir,
    runtime_dirs,
    runtime_files,
    runtime_mounts,
    runtime_package_files,
)

from .conftest import PYTHON


def test_runtime_dir_holds_exactly_resolwe_plumbum_and_the_runtime_utils(tmp_path):
    cache = tmp_path / "cache"
    built = runtime_dir(cache)
    assert built.parent == cache
    assert sorted(os.listdir(built)) == ["plumbum", "resolwe", "resolwe_runtime_utils.py"]
    assert sorted(os.listdir(built / "resolwe")) == ["__init__.py", "process"]
    assert (built / "resolwe" / "process" / "run.py").read_bytes() == (
        package_dir() / "resolwe" / "process" / "run.py"
    ).read_bytes()
    assert (built / "plumbum" / "__init__.py").read_bytes() == (plumbum_dir() / "__init__.py").read_bytes()
    # Copies, world-readable, no bytecode and no links into the host.
    for root, dirs, files in os.walk(built):
        assert "__pycache__" not in dirs
        for name in files:
            path = Path(root) / name
            assert not path.is_symlink()
            assert path.stat().st_mode & 0o444 == 0o444
    # Built once per content; the same directory for the same content.
    assert runtime_dir(cache) == built
    assert runtime_dirs(cache) == [built]
    assert runtime_mounts(cache) == [(built, PYTHON_MOUNT)]
    assert len([p for p in cache.iterdir()]) == 1
    assert sorted(relative for relative, _ in runtime_files()) == sorted(
        Path(root, name).relative_to(built).as_posix() for root, _, files in os.walk(built) for name in files
    )


def test_runtime_dir_is_rebuilt_when_files_went_missing(tmp_path):
    built = runtime_dir(tmp_path)
    (built / "resolwe" / "process" / "models.py").unlink()
    assert runtime_dir(tmp_path) == built
    assert (built / "resolwe" / "process" / "models.py").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [built.name]


def test_runtime_dir_refuses_a_cache_others_may_write(tmp_path):
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    with pytest.raises(RuntimeError, match="writable only by it"):
        runtime_dir(cache)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(RuntimeError, match="is not a directory"):
        runtime_dir(link)


def test_default_cache_location(tmp_path, monkeypatch):
    monkeypatch.setenv(python_runtime.CACHE_ENV, str(tmp_path / "from-env"))
    assert runtime_dir().parent == tmp_path / "from-env"


def test_program_env_and_command():
    assert program_env() == {
        "PYTHONPATH": "/opt/resolwe/python",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONSAFEPATH": "1",
    }
    assert program_env("/usr/lib/extra")["PYTHONPATH"] == "/opt/resolwe/python:/usr/lib/extra"
    assert runner_command() == ["python3", "-m", "resolwe.process.run", "/runtime/run.json"]


def test_only_the_runtime_dir_is_needed(runtime_path):
    """The interpreter imports resolwe.process and plumbum from the runtime directory alone."""
    code = "import resolwe.process, plumbum, resolwe.process.models as m; print(resolwe.process.__file__, plumbum.__file__)"
    proc = subprocess.run(
        [PYTHON, "-s", "-c", code],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(runtime_path), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    module_file, plumbum_file = proc.stdout.split()
    assert module_file.startswith(str(runtime_path))
    if PYTHON == "/usr/bin/python3":
        assert plumbum_file.startswith(str(runtime_path))


BIO_RUNTIME = """
from resolwe.process.models import Model
from resolwe.process.runtime import Process


class Feature(Model):
    _app_name = "bio_kb"
    _model_name = "Feature"


class ProcessBio(Process):
    _abstract = True
    feature = Feature
"""


def _bio_site(root: Path) -> Path:
    """An unpacked app like resolwe-bio: its package ``bio`` with ``process/runtime.py`` and ``processes/``."""
    (root / "bio" / "process" / "helpers").mkdir(parents=True)
    (root / "bio" / "processes").mkdir()
    (root / "bio" / "__init__.py").write_text("raise ImportError('the app itself needs Django')\n")
    (root / "bio" / "process" / "__init__.py").write_text('"""Make it a package."""\n')
    (root / "bio" / "process" / "runtime.py").write_text(BIO_RUNTIME)
    (root / "bio" / "process" / "helpers" / "text.py").write_text("def shout(text):\n    return text.upper()\n")
    (root / "bio" / "process" / "notes.txt").write_text("not Python")
    return root


def test_runtime_package_files_are_the_package_of_the_module_with_empty_parents(tmp_path):
    site = _bio_site(tmp_path / "site")
    files = dict(runtime_package_files("bio.process.runtime.ProcessBio", [tmp_path / "elsewhere", site]))
    assert sorted(files) == [
        "bio/__init__.py",
        "bio/process/__init__.py",
        "bio/process/helpers/text.py",
        "bio/process/runtime.py",
    ]
    assert files["bio/__init__.py"] is None  # the app's own __init__ is not run in the program
    assert files["bio/process/runtime.py"] == site / "bio" / "process" / "runtime.py"
    assert runtime_package_files("resolwe.process.runtime.Process", [site]) == []
    with pytest.raises(LookupError, match="'bio.missing'"):
        runtime_package_files("bio.missing.ProcessBio", [site])


def test_a_registered_runtime_is_importable_in_the_program(tmp_path):
    site = _bio_site(tmp_path / "site")
    extra = runtime_package_files("bio.process.runtime.ProcessBio", [site])
    built = runtime_dir(tmp_path / "cache", extra)
    assert (built / "bio" / "__init__.py").read_bytes() == b""
    assert built != runtime_dir(tmp_path / "cache"), "a different content is a different directory"
    check = (
        "from bio.process.runtime import ProcessBio\n"
        "from bio.process.helpers.text import shout\n"
        "print(ProcessBio.feature._model_name, shout('ok'))\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", check], env={**program_env(str(built)), "PATH": os.environ["PATH"]}, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Feature", "OK"]
