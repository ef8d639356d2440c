"""Make Django usable from a flow run started by any Prefect worker."""

from __future__ import annotations

import os


def ensure_django() -> None:
    """Set up Django once; flow runs started by ``prefect flow-run execute`` import us cold."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
