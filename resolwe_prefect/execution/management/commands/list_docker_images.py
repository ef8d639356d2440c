"""``manage list_docker_images [--format plain|yaml|json] [--pull]``: the images processes run in.

As Resolwe's command: the images named by active processes (``requirements.executor.docker.image``)
and the default image, mapped through ``FLOW_CONTAINER_IMAGE_MAP`` (prefix -> replacement). With
``--pull`` each is pulled through the Docker engine, so a site prepares its workers after
``register`` instead of finding a missing image when a Data object fails.
"""

from __future__ import annotations

import json
import time

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from resolwe_prefect.execution.backends.images import map_image, pull_image
from resolwe_prefect.processes.models import Process


def process_images() -> list[str]:
    """Every image an active process names, and the default image, mapped and sorted."""
    images = {str(settings.FLOW_EXECUTOR["DOCKER_DEFAULT_IMAGE"])}
    for requirements in Process.objects.filter(is_active=True).values_list("requirements", flat=True):
        image = ((requirements or {}).get("executor") or {}).get("docker", {}).get("image")
        if isinstance(image, str) and image:
            images.add(image)
    return sorted({map_image(image) for image in images})


class Command(BaseCommand):
    help = "List the Docker images processes use (plain, yaml or json); --pull pulls them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", default="plain", help="'plain' (default), 'yaml' or 'json'")
        parser.add_argument("--pull", action="store_true", help="pull every image through the Docker engine")
        parser.add_argument(
            "--ignore-pull-errors",
            action="store_true",
            default=bool(getattr(settings, "FLOW_DOCKER_IGNORE_PULL_ERRORS", False)),
            help="report an image that cannot be pulled and go on",
        )

    def handle(self, *args, format: str = "plain", pull: bool = False, ignore_pull_errors: bool = False, **options):
        if format not in ("plain", "yaml", "json"):
            raise CommandError(f"Unknown output format: {format}")
        images = process_images()
        if pull:
            self._pull(images, ignore_pull_errors)
            return
        if format == "yaml":
            self.stdout.write(yaml.safe_dump({"docker_images": images}, default_flow_style=False).rstrip())
        elif format == "json":
            self.stdout.write(json.dumps(images))
        else:
            self.stdout.write("\n".join(images))

    def _pull(self, images: list[str], ignore_errors: bool) -> None:
        for image in images:
            error = None
            for attempt in range(3):
                error = pull_image(image)
                if error is None:
                    break
                time.sleep(attempt + 1)
            if error is None:
                self.stdout.write(f"Docker image '{image}' pulled successfully!")
                continue
            message = f"Failed to pull Docker image '{image}': '{error}'."
            if not ignore_errors:
                raise CommandError(message)
            self.stderr.write(message)
