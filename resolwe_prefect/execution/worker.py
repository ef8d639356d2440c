"""The embedded worker: runs Data flow runs in-process, as async tasks.

It is a Prefect worker in all but the process boundary: it claims
Scheduled flow runs of its work pool by proposing Pending (so a second
worker on the same pool is refused by the server), runs them with Prefect's
flow engine, and listens to the event stream so that a new flow run starts
the moment it is created instead of at the next poll. One event loop runs
many flow runs; the programs themselves run in backends (subprocess,
container), so one slow program does not hold up the others.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import StateType
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter
from prefect.flow_engine import run_flow_async
from prefect.server.schemas.responses import SetStateStatus
from prefect.states import Cancelled, Pending

from resolwe_prefect.data import lifecycle
from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.execution import events
from resolwe_prefect.execution.writeback import CANCELLED_MESSAGE, fail_flow_run

logger = logging.getLogger(__name__)


class DataWorker:
    """Claims and runs the flow runs of one work pool."""

    def __init__(
        self,
        work_pool: str,
        deployment_id: UUID,
        *,
        concurrency: int,
        poll_seconds: float = 5.0,
        sweep_seconds: float = 15.0,
    ) -> None:
        self.work_pool = work_pool
        self.deployment_id = deployment_id
        self.concurrency = max(1, concurrency)
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self.running: dict[UUID, asyncio.Task] = {}
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Serve until cancelled."""
        from resolwe_prefect.execution.flows import process_data

        self.flow = process_data
        logger.info("Worker serving pool %r with %d slots", self.work_pool, self.concurrency)
        await asyncio.gather(self._poll_loop(), self._event_loop(), self._sweep_loop())

    # --- picking up flow runs ----------------------------------------------------------

    async def _poll_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.pick_up()
            except Exception:
                logger.exception("Could not read scheduled flow runs; retrying")
                await asyncio.sleep(1)

    async def pick_up(self) -> int:
        """Claim as many scheduled flow runs as there are free slots; return how many started."""
        free = self.concurrency - len(self.running)
        if free <= 0:
            return 0
        started = 0
        async with get_client() as client:
            responses = await client.get_scheduled_flow_runs_for_work_pool(
                self.work_pool, scheduled_before=timezone.now() + timedelta(seconds=1)
            )
            for response in sorted(responses, key=lambda r: r.flow_run.expected_start_time or timezone.now()):
                flow_run = response.flow_run
                if started >= free or flow_run.id in self.running or flow_run.deployment_id != self.deployment_id:
                    continue
                result = await client.set_flow_run_state(flow_run.id, Pending(), force=False)
                if result.status != SetStateStatus.ACCEPT:
                    continue
                self.running[flow_run.id] = asyncio.create_task(self._execute(flow_run.id))
                started += 1
        return started

    async def _execute(self, flow_run_id: UUID) -> None:
        try:
            async with get_client() as client:
                flow_run = await client.read_flow_run(flow_run_id)
            await run_flow_async(self.flow, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")
        except asyncio.CancelledError:
            await self._finish_cancelled(flow_run_id)
        except Exception:
            logger.exception("Flow run %s failed in the engine", flow_run_id)
            await sync_to_async(events.apply_state, thread_sensitive=False)(flow_run_id, "Crashed", "engine error")
        finally:
            self.running.pop(flow_run_id, None)
            self._wake.set()

    async def _record_cancelled(self, flow_run_id: UUID) -> None:
        data_id = await sync_to_async(fail_flow_run, thread_sensitive=False)(str(flow_run_id), CANCELLED_MESSAGE)
        if data_id is not None:
            await sync_to_async(lifecycle.children_finished, thread_sensitive=False)(data_id)

    async def _finish_cancelled(self, flow_run_id: UUID) -> None:
        await self._record_cancelled(flow_run_id)
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, Cancelled(message=CANCELLED_MESSAGE), force=True)

    # --- events --------------------------------------------------------------------------

    async def _event_loop(self) -> None:
        event_filter = EventFilter(event=EventNameFilter(prefix=["prefect.flow-run."]))
        while True:
            try:
                async with get_events_subscriber(filter=event_filter, reconnection_attempts=1000) as subscriber:
                    async for event in subscriber:
                        await self.on_event(event.event, event.resource.id, event.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Event stream interrupted; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    async def on_event(self, name: str, resource_id: str, payload: dict) -> None:
        """React to one flow-run event: wake on new work, cancel on Cancelling, reconcile final states."""
        state_name = name.rsplit(".", 1)[-1]
        flow_run_id = events.flow_run_id_of(resource_id)
        if flow_run_id is None:
            return
        if state_name in ("Scheduled", "AwaitingRetry"):
            if state_name == "AwaitingRetry":
                await sync_to_async(events.apply_state, thread_sensitive=False)(flow_run_id, state_name)
            self._wake.set()
        elif state_name == "Cancelling" and flow_run_id in self.running:
            # Record the operator's intent first: the engine reports the
            # interrupted run as crashed, and the first final write wins.
            await self._record_cancelled(flow_run_id)
            self.running[flow_run_id].cancel()
        elif state_name in events.FINAL_STATE_NAMES:
            message = ((payload or {}).get("validated_state") or {}).get("message")
            await sync_to_async(events.apply_state, thread_sensitive=False)(flow_run_id, state_name, message)

    # --- the safety net --------------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                logger.exception("Sweep failed; retrying later")

    async def sweep(self) -> None:
        """Catch what events and hand-overs missed: unsubmitted ready Data, final runs with live Data."""
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
        if not in_flight:
            return
        async with get_client() as client:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(in_flight))))
        for run in runs:
            if run.state and run.state.type in (StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED):
                await sync_to_async(events.apply_state, thread_sensitive=False)(run.id, run.state.name, run.state.message)


async def serve() -> None:
    """Entry point of ``resolwe-prefect worker``."""
    from resolwe_prefect.execution.deployments import ensure_local_deployment

    deployment_id = await ensure_local_deployment()
    worker = DataWorker(settings.PREFECT_WORK_POOL, deployment_id, concurrency=settings.WORKER_CONCURRENCY)
    await worker.run()
