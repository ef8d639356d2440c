"""Test configuration: the tests run against the real PostgreSQL at 127.0.0.1:5432.

``DATABASE_URL`` wins when it is set; otherwise the suite uses the local
server with trust authentication (``postgres://postgres@127.0.0.1:5432/resolwe_prefect``).
pytest-django creates and drops ``test_resolwe_prefect`` around the run.
"""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/resolwe_prefect")
os.environ.setdefault("RESOLWE_PREFECT_HOME", tempfile.mkdtemp(prefix="resolwe-prefect-tests-"))
