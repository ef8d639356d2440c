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
import os
import socket
from collections import OrderedDict
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter
from prefect.flow_engine import run_flow_async
from prefect.server.schemas.responses import SetStateStatus
from prefect.states import Cancelled, Completed, Crashed, Failed, Pending, Scheduled

from resolwe_prefect.data import lifecycle
from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.execution import events
from resolwe_prefect.execution.backends import abandon_program
from resolwe_prefect.execution.writeback import CANCELLED_MESSAGE, fail_flow_run, runtime_dir

logger = logging.getLogger(__name__)

OWNER_PREFIX = "resolwe-worker"
# A flow run Pending with no owner recorded was claimed by a worker that died
# between the claim and recording itself; after this long it is handed back.
UNOWNED_PENDING_SECONDS = 60.0
#: How many of its own ended flow runs a worker remembers (see ``DataWorker._ended``).
ENDED_MEMORY = 10_000
FINAL_TYPES = (StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)


def _start_ticks(pid: int) -> str | None:
    """A process's start time (``/proc/<pid>/stat`` field 22): tells a live owner from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def owner_token(pid: int | None = None) -> str:
    """How a worker names itself in its flow runs' ``infrastructure_pid``: host, pid and start time."""
    pid = os.getpid() if pid is None else pid
    return f"{OWNER_PREFIX}:{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def owner_alive(token: str | None) -> bool | None:
    """Is the worker named by ``token`` still running? ``None`` when this host cannot tell."""
    if not token or not token.startswith(OWNER_PREFIX + ":"):
        return None
    try:
        _prefix, host, pid, ticks = token.split(":", 3)
    except ValueError:
        return None
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return _start_ticks(int(pid)) == ticks


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
        self.owner = owner_token()
        self._wake = asyncio.Event()
        self._cancelling: set[UUID] = set()
        # Our own runs that were Running in Prefect but not in ``running`` at
        # the previous sweep (e.g. the server was down when they ended).
        self._lost: set[UUID] = set()
        # The flow each deployment we serve runs: the Data flow, and the launch flow of every process.
        self.flows: dict[UUID, Any] = {}
        self._processes_seen: tuple | None = None
        # Flow runs this worker ran to their end: their final events are our
        # own news (the flow wrote its Data object), so reading the run back
        # for each of them would only cost the server a request.
        self._ended: OrderedDict[UUID, None] = OrderedDict()

    async def run(self) -> None:
        """Serve until cancelled.

        Everything runs inside one Prefect client context, so that every
        ``get_client()`` on this loop (the engine's, the artifacts', ours)
        reuses one client and its connections instead of building a new one
        with a fresh TLS context (see ``client``), and inside one shared
        suspension observer (see ``suspension``).
        """
        from prefect.context import AsyncClientContext

        from resolwe_prefect.execution.suspension import SharedSuspensionObserver

        async with AsyncClientContext(), SharedSuspensionObserver():
            await self._serve()

    async def _serve(self) -> None:
        from resolwe_prefect.execution.flows import process_data

        self.flows[self.deployment_id] = process_data
        try:
            await self.sync_launch_deployments()
        except Exception:
            logger.exception("Could not create the launch deployments; the sweep retries")
        logger.info("Worker %s serving pool %r with %d slots", self.owner, self.work_pool, self.concurrency)
        try:
            recovered = await self.recover_orphans()
            if recovered:
                logger.info("Recovered %d flow runs left by a worker that stopped", recovered)
        except Exception:
            logger.exception("Could not recover orphaned flow runs at start; the sweep retries")
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
                if started >= free or flow_run.id in self.running or flow_run.deployment_id not in self.flows:
                    continue
                result = await client.set_flow_run_state(flow_run.id, Pending(), force=False)
                if result.status != SetStateStatus.ACCEPT:
                    continue
                # Name ourselves as the run's owner, so that a worker started
                # after we die can tell our runs are orphans (see ``recover_orphans``).
                await client.update_flow_run(flow_run.id, infrastructure_pid=self.owner)
                self.running[flow_run.id] = asyncio.create_task(self._execute(flow_run.id))
                started += 1
        return started

    async def _execute(self, flow_run_id: UUID) -> None:
        try:
            async with get_client() as client:
                flow_run = await client.read_flow_run(flow_run_id)
            flow = self.flows[flow_run.deployment_id]
            await run_flow_async(flow, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")
        except asyncio.CancelledError:
            await self._finish_cancelled(flow_run_id)
        except Exception as error:
            logger.exception("Flow run %s failed in the engine", flow_run_id)
            await sync_to_async(events.apply_state, thread_sensitive=False)(flow_run_id, "Crashed", "engine error")
            try:  # best effort: the sweep settles the run if the server cannot be reached now
                await self._settle_flow_run(flow_run_id, f"The flow engine failed: {error}"[:500])
            except Exception:
                logger.warning("Could not settle flow run %s after an engine error", flow_run_id, exc_info=True)
        finally:
            self.running.pop(flow_run_id, None)
            self._cancelling.discard(flow_run_id)
            self._ended[flow_run_id] = None
            self._ended.move_to_end(flow_run_id)
            while len(self._ended) > ENDED_MEMORY:
                self._ended.popitem(last=False)
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
                        try:
                            await self.on_event(event.event, event.resource.id, event.payload, event_id=str(event.id))
                        except Exception:  # one event must not end the stream (e.g. the server restarting)
                            logger.warning("Could not handle event %s; the sweep catches up", event.event, exc_info=True)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Event stream interrupted; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    async def _current_state(self, flow_run_id: UUID):
        async with get_client() as client:
            return (await client.read_flow_run(flow_run_id)).state

    async def on_event(self, name: str, resource_id: str, payload: dict, *, event_id: str | None = None) -> None:
        """React to one flow-run event: wake on new work, cancel on Cancelling, reconcile final states.

        Events may arrive twice, late or out of order (a replay, a reconnect),
        so an event is only a cue: what is written comes from the flow run's
        current state in Prefect. A Failed event that arrives after an
        operator's retry started, or an AwaitingRetry event that arrives
        after the retried run finished, then changes nothing.
        """
        state_name = name.rsplit(".", 1)[-1]
        flow_run_id = events.flow_run_id_of(resource_id)
        if flow_run_id is None:
            return
        if state_name == "Scheduled":
            self._wake.set()
        elif state_name == "AwaitingRetry":
            current = await self._current_state(flow_run_id)
            if current is None or current.type in FINAL_TYPES:
                logger.info("Event %s (%s) for flow run %s is stale (now %s); ignored",
                            state_name, event_id, flow_run_id, current and current.name)
            else:
                changed = await sync_to_async(events.apply_state, thread_sensitive=False)(flow_run_id, state_name)
                logger.info("Event %s (%s) for flow run %s: %s", state_name, event_id, flow_run_id,
                            f"Data {changed} reopened" if changed else "no change")
            self._wake.set()
        elif state_name == "Cancelling":
            if flow_run_id not in self.running or flow_run_id in self._cancelling:
                return  # not ours, or a repeated event: cancel once
            current = await self._current_state(flow_run_id)
            if current is None or current.type != StateType.CANCELLING:
                logger.info("Event Cancelling (%s) for flow run %s is stale; ignored", event_id, flow_run_id)
                return
            self._cancelling.add(flow_run_id)
            # Record the operator's intent first: the engine reports the
            # interrupted run as crashed, and the first final write wins.
            await self._record_cancelled(flow_run_id)
            self.running[flow_run_id].cancel()
        elif state_name in events.FINAL_STATE_NAMES:
            if flow_run_id in self._ended and flow_run_id not in self.running:
                return  # we ran it to its end ourselves
            current = await self._current_state(flow_run_id)
            if current is None or current.type not in FINAL_TYPES:
                logger.info("Event %s (%s) for flow run %s is stale (now %s); ignored",
                            state_name, event_id, flow_run_id, current and current.name)
                return
            changed = await sync_to_async(events.apply_state, thread_sensitive=False)(
                flow_run_id, current.name, current.message
            )
            logger.info("Event %s (%s) for flow run %s: %s", state_name, event_id, flow_run_id,
                        f"Data {changed} set to ER" if changed else "no change")

    # --- the safety net --------------------------------------------------------------------

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
        if not in_flight:
            return
        async with get_client() as client:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(in_flight))))
        for run in runs:
            if run.state and run.state.type in FINAL_TYPES:
                await sync_to_async(events.apply_state, thread_sensitive=False)(run.id, run.state.name, run.state.message)

    # --- launch deployments ------------------------------------------------------------------

    async def sync_launch_deployments(self) -> None:
        """Keep one launch deployment per active process, and serve them; cheap when no process changed."""
        from resolwe_prefect.execution import launch
        from resolwe_prefect.execution.flows import launch_process

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
        self._wake.set()

    # --- orphans: runs whose worker died ----------------------------------------------------

    async def recover_orphans(self) -> int:
        """Settle the flow runs of our deployment whose worker is gone; return how many.

        The flow runs inside its worker, so a worker that dies (SIGKILL, OOM,
        a crash) leaves its runs Pending or Running in Prefect with no one to
        end them, and no Prefect hook fires. A run is an orphan when its
        recorded owner is a dead process on this host, when it is ours but
        we no longer run it (two sweeps in a row), or when it has been Pending
        with no owner for a minute. Pending orphans never started: they go
        back to Scheduled and run again. Running ones end: Crashed, and their
        Data object ER, unless it had already finished (then the run mirrors it).
        """
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    deployment_id=FlowRunFilterDeploymentId(any_=list(self.flows)),
                    state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING, StateType.CANCELLING])
                    ),
                ),
                limit=200,
            )
        lost_now: set[UUID] = set()
        recovered = 0
        for run in runs:
            if run.id in self.running or run.state is None:
                continue
            owner = run.infrastructure_pid
            if owner == self.owner:
                lost_now.add(run.id)
                if run.id not in self._lost:
                    continue  # give a run that is just ending one sweep to settle
            elif owner_alive(owner) is not False:
                age = (timezone.now() - run.state.timestamp).total_seconds() if run.state.timestamp else 0
                if owner or run.state.type != StateType.PENDING or age < UNOWNED_PENDING_SECONDS:
                    continue
            await self._recover(run, owner)
            recovered += 1
        self._lost = lost_now
        return recovered

    async def _recover(self, run, owner: str | None) -> None:
        """End (or reschedule) one orphaned flow run and its Data object."""
        async with get_client() as client:
            current = (await client.read_flow_run(run.id)).state
            if current is None or current.type not in (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING):
                return
            if current.type == StateType.PENDING:
                await client.set_flow_run_state(
                    run.id, Scheduled(message=f"Rescheduled: the worker that claimed it stopped ({owner})."), force=True
                )
                logger.warning("Flow run %s was claimed by a worker that stopped (%s); rescheduled", run.id, owner)
                self._wake.set()
                return
        data = await sync_to_async(_data_of, thread_sensitive=False)(run.id)
        if data is not None:
            await asyncio.to_thread(abandon_program, data[0], str(runtime_dir(data[0])))
        if current.type == StateType.CANCELLING:
            await self._record_cancelled(run.id)
            state = Cancelled(message=CANCELLED_MESSAGE)
        elif data is not None and data[1] == DataStatus.DONE:
            state = Completed(message="Settled after its worker stopped: the Data object had finished.")
        elif data is not None and data[1] == DataStatus.ERROR:
            state = Failed(message="Settled after its worker stopped: the Data object had failed.")
        else:
            message = f"Processing was interrupted: the worker running it stopped ({owner or 'unknown worker'})."
            await sync_to_async(events.apply_state, thread_sensitive=False)(run.id, "Crashed", message)
            state = Crashed(message=message)
        async with get_client() as client:
            await client.set_flow_run_state(run.id, state, force=True)
        logger.warning("Flow run %s of a stopped worker (%s) settled as %s", run.id, owner, state.name)

    async def _settle_flow_run(self, flow_run_id: UUID, message: str) -> None:
        """Give a run whose engine failed a final state in Prefect that matches its Data object."""
        status = (await sync_to_async(_data_of, thread_sensitive=False)(flow_run_id) or (None, None))[1]
        async with get_client() as client:
            current = (await client.read_flow_run(flow_run_id)).state
            if current is not None and current.type in FINAL_TYPES:
                return
            state = Completed(message=message) if status == DataStatus.DONE else Crashed(message=message)
            await client.set_flow_run_state(flow_run_id, state, force=True)


def _data_of(flow_run_id: UUID) -> tuple[int, str] | None:
    """The Data object a flow run currently owns: ``(id, status)``."""
    return Data.objects.filter(flow_run_id=flow_run_id).values_list("pk", "status").first()


async def serve() -> None:
    """Entry point of ``resolwe-prefect worker``."""
    from resolwe_prefect.execution.deployments import ensure_local_deployment

    deployment_id = await ensure_local_deployment()
    # The server holds each queue to its own limit (batch: WORKER_CONCURRENCY, interactive:
    # WORKER_INTERACTIVE_SLOTS), so the worker's total is their sum.
    slots = settings.WORKER_CONCURRENCY + settings.WORKER_INTERACTIVE_SLOTS
    worker = DataWorker(settings.PREFECT_WORK_POOL, deployment_id, concurrency=slots)
    await worker.run()
