"""Fixtures of the execution tests."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from tests.execution.kubernetes_manifests import volume  # noqa: F401 - the Kubernetes tests' fixture

#: The runner of the stub Python runtime: asks the channel for its Data object's name, prints the reply.
STUB_RUNNER = """\
import json, os, socket, sys
spec = json.load(open(sys.argv[1]))
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(os.environ["RESOLWE_CHANNEL"])
stream = sock.makefile("rwb")
request = {"id": 1, "command": "fields", "args": {"model": "Data", "id": spec["data"]["id"], "names": ["name"]}}
stream.write(json.dumps(request).encode() + b"\\n")
stream.flush()
print("reply", stream.readline().decode().strip())
print("uid", os.getuid(), "source", open(spec["source"]).read().strip())
"""


@pytest.fixture
def stub_python_runtime(tmp_path, monkeypatch) -> Path:
    """A stand-in for Resolwe's Python runtime (``runtime.python_runtime.runtime_dirs``): a directory with ``resolwe/``."""
    root = tmp_path / "stub-runtime"
    package = root / "resolwe"
    (package / "process").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "process" / "__init__.py").write_text("")
    (package / "process" / "run.py").write_text(STUB_RUNNER)
    (package / "process" / "__pycache__").mkdir()
    (package / "process" / "__pycache__" / "run.cpython-311.pyc").write_bytes(b"compiled")
    stub = types.ModuleType("resolwe_prefect.runtime.python_runtime")
    stub.runtime_dirs = lambda **_: [root]  # type: ignore[attr-defined]
    stub.runtime_package_files = lambda runtime, roots: []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "resolwe_prefect.runtime.python_runtime", stub)
    return root
