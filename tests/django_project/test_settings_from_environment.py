"""Resolwe settings a site sets in the environment, as Resolwe reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _settings(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django_project.settings as s; "
        f"print(json.dumps({{name: getattr(s, name) for name in {list(names)!r}}}, default=str))"
    )
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_processes_allow_and_ignore_lists_are_read_from_the_environment():
    env = {"FLOW_PROCESSES_ALLOW_LIST": '["upload-file", "word-count"]', "FLOW_PROCESSES_IGNORE_LIST": '["word-count"]'}
    assert _settings(env, "FLOW_PROCESSES_ALLOW_LIST", "FLOW_PROCESSES_IGNORE_LIST") == {
        "FLOW_PROCESSES_ALLOW_LIST": ["upload-file", "word-count"],
        "FLOW_PROCESSES_IGNORE_LIST": ["word-count"],
    }
    unset = {"FLOW_PROCESSES_ALLOW_LIST": "[]", "FLOW_PROCESSES_IGNORE_LIST": "[]"}
    assert _settings(unset, "FLOW_PROCESSES_ALLOW_LIST") == {"FLOW_PROCESSES_ALLOW_LIST": []}
