"""The state directory's secrets: generated once, private, and the key no one else knows.

Attack: the old default ``SECRET_KEY`` was a fixed public string, so anyone could
forge ``/signed-data/...`` URLs and decrypt stored secrets from a copy of the
database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.core import signing

from django_project.state import private_value, state_dir

PUBLIC_KEY_OF_OLD = "resolwe-prefect-insecure-local-key"


def _settings_secret_key(home: Path, **env: str) -> str:
    """``SECRET_KEY`` as a fresh process computes it with nothing configured but the state directory."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    environment.update(RESOLWE_PREFECT_HOME=str(home), **env)
    script = "import django_project.settings as s; print(s.SECRET_KEY)"
    result = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_key_is_generated_once_kept_private_and_not_the_old_public_one(tmp_path):
    home = tmp_path / "state"
    first = _settings_secret_key(home)
    assert first and first != PUBLIC_KEY_OF_OLD and len(first) >= 50
    assert _settings_secret_key(home) == first
    assert (home / "secret-key").stat().st_mode & 0o777 == 0o600
    assert home.stat().st_mode & 0o777 == 0o700
    assert _settings_secret_key(tmp_path / "other") != first


def test_django_secret_key_overrides(tmp_path):
    assert _settings_secret_key(tmp_path, DJANGO_SECRET_KEY="site-key") == "site-key"
    assert not (tmp_path / "secret-key").exists()


def test_processes_starting_together_share_one_key(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        values = set(pool.map(lambda _: private_value(tmp_path / "key"), range(32)))
    assert len(values) == 1


def test_existing_state_directory_keeps_its_mode(tmp_path):
    tmp_path.chmod(0o750)
    assert state_dir(tmp_path) == tmp_path.resolve()
    assert tmp_path.stat().st_mode & 0o777 == 0o750


def test_signature_forged_with_the_old_public_key_is_refused():
    from resolwe_prefect.data.uris import SALT, verify

    forged = signing.TimestampSigner(key=PUBLIC_KEY_OF_OLD, salt=SALT).sign("1/out.txt").split(":", 2)[-2:]
    assert settings.SECRET_KEY != PUBLIC_KEY_OF_OLD
    assert not verify(1, "out.txt", ":".join(forged))
