"""The suite itself: it must run on the real PostgreSQL, as the README promises."""

from django.conf import settings


def test_suite_uses_postgresql():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
