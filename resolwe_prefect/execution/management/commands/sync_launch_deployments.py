"""``sync_launch_deployments``: one Prefect deployment per active process, for launching from the UI.

The embedded worker keeps these itself. A cluster whose flow runs go to
standard ``prefect worker``s (process, Docker or Kubernetes pools) runs this
after ``register`` (and after ``prefect deploy``, whose Data deployment the
launch deployments copy their pool and job variables from).
"""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or update the resolwe-launch deployment of every active process; remove retired ones."

    def handle(self, *args, **options) -> None:
        from resolwe_prefect.execution.prefect_api.launch_deployments import sync_launch_deployments

        deployed = asyncio.run(sync_launch_deployments())
        for slug in sorted(deployed.values()):
            self.stdout.write(f"resolwe-launch/{slug}")
        self.stdout.write(self.style.SUCCESS(f"{len(deployed)} launch deployments"))
