"""The worker's safety net: every few seconds, catch what events and hand-overs missed.

Ready Data objects no one submitted are advanced; flow runs that ended
without their Data object hearing of it are reconciled (``events``); runs of
ours that are Cancelling without the event having reached us are cancelled;
dead workers' runs are settled (``orphans``); and the launch deployments are
kept in step with the processes (``launches``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from uuid import UUID

from asgiref.sync import sync_to_async
from django.utils import timezone
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import StateType

from resolwe_prefect.data import lifecycle
from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.execution.worker.events import FINAL_TYPES, apply_state
from resolwe_prefect.execution.worker.state import WorkerState

logger = logging.getLogger(__name__)


class Sweep(WorkerState):
    """The worker's part that reconciles periodically."""

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                logger.exception("Sweep failed; retrying later")

    async def sweep(self) -> None:
        """Catch what events and hand-overs missed: unsubmitted ready Data, final runs with live Data, orphans."""
        try:
            await self.recover_orphans()
        except Exception:  # must not keep the rest of the sweep from running
            logger.exception("Could not recover orphaned flow runs; retrying later")
        try:
            await self.sync_launch_deployments()
        except Exception:
            logger.exception("Could not update the launch deployments; retrying later")
        cutoff = timezone.now() - timedelta(seconds=self.sweep_seconds)

        def stale() -> tuple[list[int], dict[UUID, int]]:
            unsubmitted = list(
                Data.objects.filter(
                    status__in=[DataStatus.RESOLVING, DataStatus.WAITING], flow_run_id__isnull=True, modified__lt=cutoff
                ).values_list("pk", flat=True)[:500]
            )
            in_flight = dict(
                Data.objects.filter(
                    status__in=[DataStatus.WAITING, DataStatus.PREPARING, DataStatus.PROCESSING],
                    flow_run_id__isnull=False,
                    modified__lt=cutoff,
                ).values_list("flow_run_id", "pk")[:500]
            )
            return unsubmitted, in_flight

        unsubmitted, in_flight = await sync_to_async(stale, thread_sensitive=False)()
        if unsubmitted:
            await sync_to_async(lifecycle.advance, thread_sensitive=False)(unsubmitted)
        # Our own runs are read whatever their Data did lately: a program that
        # reports progress keeps its Data object fresh, and its Cancelling must
        # still be seen if the event was lost.
        ours = [flow_run_id for flow_run_id in self.running if flow_run_id not in self._cancelling]
        to_read = [*in_flight, *(flow_run_id for flow_run_id in ours if flow_run_id not in in_flight)]
        if not to_read:
            return
        async with get_client() as client:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=to_read)))
        for run in runs:
            if run.state and run.state.type in FINAL_TYPES and run.id in in_flight:
                name, message = run.state.name or run.state.type.value.title(), run.state.message or None
                await sync_to_async(apply_state, thread_sensitive=False)(run.id, name, message)
            elif (
                run.state
                and run.state.type == StateType.CANCELLING
                and run.id in self.running
                and run.id not in self._cancelling
            ):
                # Its Cancelling event never reached us (a dropped event stream): without
                # this the program would run to its end although an operator stopped it.
                logger.warning("Flow run %s is Cancelling and no event said so; cancelling it now", run.id)
                await self._cancel(run.id)
