"""Settings for the test suite: the project's settings, pointed at the real PostgreSQL.

pytest-django loads settings before any conftest runs, so the database
default is set here. ``DATABASE_URL`` wins when it is set; otherwise the
suite uses the local server with trust authentication, and pytest-django
creates and drops ``test_resolwe_prefect`` around the run.
"""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/resolwe_prefect")
os.environ.setdefault("RESOLWE_PREFECT_HOME", tempfile.mkdtemp(prefix="resolwe-prefect-tests-"))

from django_project.settings import *  # noqa: E402,F401,F403

# Users are created by the hundred in the permission tests; the production hasher costs ~0.3 s each.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Django's test client sends "Host: testserver"; the embedded default allows loopback names only.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
