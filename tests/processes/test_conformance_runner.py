"""The conformance runner's registration call (tests/conformance/registration.py), against the test database.

The runner normally calls ``resolwe-prefect manage register`` in a subprocess of
its own stack; here the same arguments go to ``call_command`` in-process.
"""

import importlib
import subprocess
import sys
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from resolwe_prefect.processes.models import Process

CONFORMANCE = Path("/work/shared/conformance")
RUNNER = Path(__file__).parents[1] / "conformance"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not (CONFORMANCE / "processes").is_dir(), reason="conformance corpus not available"),
]


@pytest.fixture(scope="module")
def runner():
    """The runner's ``registration`` and ``corpus`` modules, imported the way run.py imports them.

    Their bare module names (``context``, ``files``...) are taken out of ``sys.modules`` again.
    """
    before, path = set(sys.modules), list(sys.path)
    sys.path.insert(0, str(RUNNER))
    try:
        modules = SimpleNamespace(
            registration=importlib.import_module("registration"), corpus=importlib.import_module("corpus")
        )
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - before:
            if getattr(sys.modules[name], "__file__", "") and Path(sys.modules[name].__file__).parent == RUNNER:
                del sys.modules[name]
    return modules


@pytest.fixture
def ctx(runner, admin, tmp_path):
    calls = []

    def manage(*args, timeout):
        calls.append(args)
        out, err = StringIO(), StringIO()
        call_command(*args, stdout=out, stderr=err)
        return subprocess.CompletedProcess(args, 0, out.getvalue(), err.getvalue())

    return SimpleNamespace(
        corpus=runner.corpus.Corpus.load(CONFORMANCE),
        tmp=tmp_path,
        stack=SimpleNamespace(manage=manage),
        remaining=lambda: 100.0,
        calls=calls,
    )


def slugs(result):
    return [(o["slug"], o["version"], o["outcome"]) for o in result["outcomes"]]


def test_corpus_knows_where_python_processes_are(ctx):
    python = CONFORMANCE / "processes" / "python"
    assert len(ctx.corpus.python_files) == 29
    assert ctx.corpus.python_files["upload-file"] == [python / "files.py"]
    assert ctx.corpus.python_files["test-python-process"] == [python / "python_test.py"]
    assert ctx.corpus.process_selection(["test-min", "test-python-process-json"]) == (
        ctx.corpus.processes["test-min"],
        [python / "python_json.py"],
    )
    with pytest.raises(AssertionError, match="defined neither"):
        ctx.corpus.process_selection(["no-such-process"])


def test_python_processes_register_alone(runner, ctx):
    result = runner.registration.register(ctx, ["test-python-process", "test-python-process-2"])
    assert slugs(result) == [
        ("test-python-process", "0.1.2", "inserted"),
        ("test-python-process-2", "0.0.1", "inserted"),
    ]
    assert Process.objects.count() == 2  # not the other 25 classes of python_test.py
    args = ctx.calls[0]
    start = args.index("--slug")
    assert args[start : start + 4] == ("--slug", "test-python-process", "--slug", "test-python-process-2")
    assert args[start - 2 : start] == ("--file", str(CONFORMANCE / "processes" / "python" / "python_test.py"))
    expected = {
        "outcomes": {"test-python-process@0.1.2": "inserted"},
        "messages_contain": ["Inserted test-python-process"],
    }
    assert runner.registration.check_outcomes(result, expected) is None


def test_yaml_then_python_in_one_call(runner, ctx):
    result = runner.registration.register(ctx, ["entity-process", "test-min", "upload-file"], descriptors=["sample"])
    assert slugs(result) == [
        ("sample", "0.0.0", "inserted"),
        ("test-min", "1.0.0", "inserted"),
        ("test-min", "1.0.1", "inserted"),
        ("test-min", "0.0.9", "skipped-newer"),
        ("upload-file", "1.1.2", "inserted"),  # files.py comes before python_test.py
        ("entity-process", "1.0.0", "inserted"),
    ]
    assert len(ctx.calls) == 1


def test_explicit_files_with_python_processes(runner, ctx):
    result = runner.registration.register(ctx, ["upload-file"], files=["registration/first_version.yml"])
    assert slugs(result) == [("test-proc", "1.0.0", "inserted"), ("upload-file", "1.1.2", "inserted")]


def test_yaml_only_calls_are_unchanged(runner, ctx):
    result = runner.registration.register(ctx, ["test-min"], files=["registration/first_version.yml"])
    assert [s for s, _, _ in slugs(result)] == ["test-proc", "test-min", "test-min", "test-min"]
    assert "--slug" not in ctx.calls[0]
