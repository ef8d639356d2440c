"""ASGI entry point, served by uvicorn in ``resolwe-prefect up``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
application = get_asgi_application()
