"""The README's configuration table lists every environment variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|_env_json|_env_bool|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def test_every_environment_variable_the_code_reads_is_documented():
    sources = [ROOT / "django_project" / "settings.py", *sorted((ROOT / "resolwe_prefect").rglob("*.py"))]
    names = {name for path in sources for name in READ.findall(path.read_text())}
    readme = (ROOT / "README.md").read_text()
    assert names, "the pattern found nothing: it no longer matches how the code reads the environment"
    assert sorted(name for name in names if f"`{name}" not in readme and name not in readme) == []
