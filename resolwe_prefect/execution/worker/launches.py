"""Launch deployments, as the embedded worker serves them: one per active process.

Whenever a process is registered, changed or retired, the worker brings the
launch deployments in step (``prefect_api.launch_deployments``) and serves
each with the launch flow, so a launch from the Prefect UI runs here.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.conf import settings

from resolwe_prefect.execution.flows import launch_process
from resolwe_prefect.execution.prefect_api import launch_deployments as launch
from resolwe_prefect.execution.worker.state import WorkerState

logger = logging.getLogger(__name__)


class LaunchDeployments(WorkerState):
    """The worker's part that keeps and serves the launch deployments."""

    async def sync_launch_deployments(self) -> None:
        """Keep one launch deployment per active process, and serve them; cheap when no process changed."""
        if not settings.LAUNCH_DEPLOYMENTS:
            return
        seen = await sync_to_async(launch.processes_fingerprint, thread_sensitive=False)()
        if seen == self._processes_seen:
            return
        deployed = await launch.sync_launch_deployments()
        for deployment_id in [d for d, flow in self.flows.items() if flow is launch_process and d not in deployed]:
            del self.flows[deployment_id]
        self.flows.update({deployment_id: launch_process for deployment_id in deployed})
        self._processes_seen = seen
        logger.info("Serving %d launch deployments (one per active process)", len(deployed))
        self._query_server = True
        self._wake.set()
