"""FLOW_PROCESSES_RUNTIMES: a site's own process base class goes into every program's runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolwe_prefect.execution.backends.base import python_runtime
from resolwe_prefect.execution.backends.runtimes import registered_runtime_files, search_roots


def _unpacked_app(root: Path) -> Path:
    """Like an unpacked resolwe-bio: ``site_bio/process/runtime.py`` beside ``site_bio/processes/``."""
    (root / "site_bio" / "process").mkdir(parents=True)
    (root / "site_bio" / "processes").mkdir()
    (root / "site_bio" / "__init__.py").write_text("import django\n")
    (root / "site_bio" / "process" / "__init__.py").write_text("")
    (root / "site_bio" / "process" / "runtime.py").write_text(
        "from resolwe.process import Process\n\n\nclass SiteProcess(Process):\n    _abstract = True\n"
    )
    return root / "site_bio" / "processes"


def test_resolwe_s_own_runtime_adds_nothing(settings):
    settings.FLOW_PROCESSES_RUNTIMES = ["resolwe.process.runtime.Process"]
    assert registered_runtime_files() == []


def test_a_runtime_beside_a_process_directory_is_found_without_importing_it(settings, tmp_path):
    processes = _unpacked_app(tmp_path / "app")
    settings.FLOW_PROCESSES_DIRS = [processes]
    settings.FLOW_PROCESSES_RUNTIMES = ["resolwe.process.runtime.Process", "site_bio.process.runtime.SiteProcess"]
    assert (tmp_path / "app").resolve() in search_roots()
    files = dict(registered_runtime_files())
    assert sorted(files) == ["site_bio/__init__.py", "site_bio/process/__init__.py", "site_bio/process/runtime.py"]
    assert files["site_bio/__init__.py"] is None
    built = python_runtime()
    assert (built / "site_bio" / "process" / "runtime.py").is_file()
    assert (built / "resolwe" / "process" / "run.py").is_file()


def test_a_runtime_that_is_nowhere_is_named(settings, tmp_path):
    settings.FLOW_PROCESSES_DIRS = [tmp_path]
    settings.FLOW_PROCESSES_RUNTIMES = ["nowhere_bio.process.runtime.ProcessBio"]
    with pytest.raises(LookupError, match="nowhere_bio.process.runtime"):
        registered_runtime_files()
