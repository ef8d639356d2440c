"""The shared web base stays below the apps, and services answer for their own errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import resolwe_prefect
from resolwe_prefect.api.exceptions import exception_handler
from resolwe_prefect.data.services import DataError
from resolwe_prefect.uploads.chunks import ChunkError

PACKAGE = Path(resolwe_prefect.__file__).parent
#: What ``resolwe_prefect.api`` may build on: nothing but the pure core.
ALLOWED = ("resolwe_prefect.core", "resolwe_prefect.api")


def _imports(path: Path) -> set[str]:
    """Every ``resolwe_prefect`` module a file imports, lazily imported ones included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("resolwe_prefect")}


def test_the_web_base_imports_no_app():
    """Apps build on ``api``; the routes of all apps are assembled in ``resolwe_prefect.urls``."""
    upward = {
        f"{path.name}: {name}"
        for path in sorted((PACKAGE / "api").glob("*.py"))
        for name in _imports(path)
        if not name.startswith(ALLOWED)
    }
    assert not upward


@pytest.mark.parametrize(
    "error", [DataError({"detail": "No."}, status_code=403), ChunkError({"_totalSize": ["Too big."]}, status_code=413)]
)
def test_a_service_error_is_answered_with_its_own_body_and_status(error):
    response = exception_handler(error, {})
    assert response is not None
    assert (response.status_code, response.data) == (error.status_code, error.detail)
