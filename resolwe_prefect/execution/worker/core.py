"""The embedded worker: runs Data flow runs in-process, as async tasks.

It is a Prefect worker in all but the process boundary, and the dispatcher
of the Data objects on its machine. This part claims flow runs and runs
them with Prefect's flow engine; the others are Resolwe's waiting queue
(``queue``), event reconciliation (``events``), the safety net (``sweep``),
dead workers' runs (``orphans``) and the launch deployments (``launches``).
Flow runs that others schedule (launches from the UI, an operator's retry,
the API's fallback) it claims by proposing Pending, as any Prefect worker
does, the moment the event stream announces them. One event loop runs many
flow runs; the programs themselves run in backends (a sandbox, a container),
so one slow program does not hold up the others.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.utils import timezone
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State, StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.context import AsyncClientContext, SyncClientContext
from prefect.flow_engine import run_flow_async
from prefect.states import Cancelled, Completed, Crashed, Pending

from resolwe_prefect.data import lifecycle, transitions
from resolwe_prefect.data.models import DataStatus
from resolwe_prefect.execution.flows import process_data
from resolwe_prefect.execution.run.plan import CANCELLED_MESSAGE
from resolwe_prefect.execution.worker.dispatch import DispatchListener, notify_worker
from resolwe_prefect.execution.worker.events import FINAL_TYPES, EventReconciler, apply_state
from resolwe_prefect.execution.worker.launches import LaunchDeployments
from resolwe_prefect.execution.worker.orphans import OrphanRecovery, data_of
from resolwe_prefect.execution.worker.queue import WaitingQueue
from resolwe_prefect.execution.worker.suspension import SharedSuspensionObserver
from resolwe_prefect.execution.worker.sweep import Sweep

logger = logging.getLogger(__name__)

#: How many of its own ended flow runs a worker remembers (see ``WorkerState._ended``).
ENDED_MEMORY = 10_000


class DataWorker(WaitingQueue, EventReconciler, Sweep, OrphanRecovery, LaunchDeployments):
    """Claims and runs the flow runs of one work pool, and keeps Resolwe's waiting queue for it."""

    async def run(self) -> None:
        """Serve until cancelled.

        Everything runs inside one async and one sync Prefect client
        context, so that every ``get_client()`` on this loop (the engine's,
        the artifacts', the result store's, ours) reuses a client and its
        connections instead of building a new one with a fresh TLS context
        (see ``client``), and inside one shared suspension observer (see
        ``suspension``).
        """
        with SyncClientContext():
            async with AsyncClientContext(), SharedSuspensionObserver():
                await self._serve()

    async def _serve(self) -> None:
        self.flows[self.deployment_id] = process_data
        try:
            await self.sync_launch_deployments()
        except Exception:
            logger.exception("Could not create the launch deployments; the sweep retries")
        logger.info("Worker %s serving pool %r with slots %s", self.owner, self.work_pool, self.slots.limits)
        try:
            recovered = await self.recover_orphans()
            if recovered:
                logger.info("Recovered %d flow runs left by a worker that stopped", recovered)
        except Exception:
            logger.exception("Could not recover orphaned flow runs at start; the sweep retries")
        self._loop = asyncio.get_running_loop()
        listener = DispatchListener(self.notified)
        # Data objects released in this process (by the flow runs it runs) come straight to the queue.
        previous = lifecycle.registered()
        lifecycle.register(self.hand_over, notify_worker)
        try:
            listener.start(self._loop)
        except OSError:  # the API then submits through Prefect, as to any other worker
            logger.warning("Could not listen on %s; new Data reach this worker through Prefect", listener.path,
                           exc_info=True)  # fmt: skip
        try:
            await asyncio.gather(self._poll_loop(), self._event_loop(), self._sweep_loop(), self._dispatch_loop())
        finally:
            listener.stop()
            lifecycle.register(*previous)

    # --- picking up flow runs ----------------------------------------------------------

    async def _poll_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                self._query_server = True
            self._wake.clear()
            try:
                await self.pick_up()
            except Exception:
                logger.exception("Could not read scheduled flow runs; retrying")
                self._query_server = True
                await asyncio.sleep(1)

    async def pick_up(self) -> int:
        """Claim flow runs others scheduled (UI launches, retries, the API's fallback); return how many started.

        They go before our own waiting Data objects: they are what an
        operator just asked for, and there are few of them.
        """
        started = 0
        if not self._query_server or self.slots.total_free() <= 0:
            return started
        self._query_server = False
        async with get_client() as client:
            responses = await client.get_scheduled_flow_runs_for_work_pool(
                self.work_pool, scheduled_before=timezone.now() + timedelta(seconds=1)
            )
            for response in sorted(responses, key=lambda r: r.flow_run.expected_start_time or timezone.now()):
                flow_run = response.flow_run
                queue = self.slots.queue_of(flow_run.work_queue_name)
                if (
                    self.slots.free(queue) <= 0
                    or flow_run.id in self.running
                    or flow_run.deployment_id not in self.flows
                ):
                    continue
                if await self._claim(client, flow_run.id, queue, flow_run):
                    started += 1
        return started

    async def _claim(
        self, client: Any, flow_run_id: UUID, queue: str, flow_run: Any = None, *, reserved: bool = False
    ) -> bool:
        """Propose Pending (the server refuses a run another worker claimed first) and start the run."""
        result = await client.set_flow_run_state(flow_run_id, Pending(), force=False)
        if result.status != SetStateStatus.ACCEPT:
            return False
        if flow_run is not None:
            flow_run.state = result.state
        self._start(flow_run_id, queue, flow_run, reserved=reserved)
        return True

    def _start(self, flow_run_id: UUID, queue: str, flow_run: Any = None, *, reserved: bool = False) -> None:
        """Run a claimed flow run in a slot of ``queue`` (already taken when ``reserved``)."""
        if not reserved:
            self.slots.take(queue)
        self.running[flow_run_id] = asyncio.create_task(self._execute(flow_run_id, queue, flow_run))

    async def _execute(self, flow_run_id: UUID, queue: str, flow_run: Any = None) -> None:
        owner_recorded = None
        try:
            async with get_client() as client:
                # Name ourselves as the run's owner, so that a worker started after
                # we die can tell our runs are orphans (see ``recover_orphans``);
                # it is not needed to run, so the engine does not wait for it.
                owner_recorded = asyncio.create_task(client.update_flow_run(flow_run_id, infrastructure_pid=self.owner))
                if flow_run is None or flow_run.state is None or flow_run.state.type != StateType.PENDING:
                    flow_run = await client.read_flow_run(flow_run_id)
            flow = self.flows[flow_run.deployment_id]
            await run_flow_async(flow, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")
        except asyncio.CancelledError:
            await self._finish_cancelled(flow_run_id)
        except Exception as error:
            logger.exception("Flow run %s failed in the engine", flow_run_id)
            await sync_to_async(apply_state, thread_sensitive=False)(flow_run_id, "Crashed", "engine error")
            try:  # best effort: the sweep settles the run if the server cannot be reached now
                await self._settle_flow_run(flow_run_id, f"The flow engine failed: {error}"[:500])
            except Exception:
                logger.warning("Could not settle flow run %s after an engine error", flow_run_id, exc_info=True)
        finally:
            if owner_recorded is not None:
                try:
                    await owner_recorded
                except Exception:  # noqa: BLE001 - only orphan recovery needs it
                    logger.warning("Could not record the owner of flow run %s", flow_run_id, exc_info=True)
            self.running.pop(flow_run_id, None)
            self.slots.release(queue)
            self._cancelling.discard(flow_run_id)
            self._ended[flow_run_id] = None
            self._ended.move_to_end(flow_run_id)
            while len(self._ended) > ENDED_MEMORY:
                self._ended.popitem(last=False)
            self._wake.set()
            self._dispatch_wake.set()

    async def _cancel(self, flow_run_id: UUID) -> None:
        """Stop a run of ours that an operator is cancelling (Cancelling in Prefect), once."""
        self._cancelling.add(flow_run_id)
        # Record the operator's intent first: the engine reports the
        # interrupted run as crashed, and the first final write wins.
        await self._record_cancelled(flow_run_id)
        task = self.running.get(flow_run_id)
        if task is not None:
            task.cancel()

    async def _record_cancelled(self, flow_run_id: UUID) -> None:
        await sync_to_async(transitions.fail, thread_sensitive=False)(flow_run_id, CANCELLED_MESSAGE)

    async def _finish_cancelled(self, flow_run_id: UUID) -> None:
        await self._record_cancelled(flow_run_id)
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, Cancelled(message=CANCELLED_MESSAGE), force=True)

    async def _settle_flow_run(self, flow_run_id: UUID, message: str) -> None:
        """Give a run whose engine failed a final state in Prefect that matches its Data object."""
        status = (await sync_to_async(data_of, thread_sensitive=False)(flow_run_id) or (None, None))[1]
        async with get_client() as client:
            current = (await client.read_flow_run(flow_run_id)).state
            if current is not None and current.type in FINAL_TYPES:
                return
            state: State[Any] = Completed(message=message) if status == DataStatus.DONE else Crashed(message=message)
            await client.set_flow_run_state(flow_run_id, state, force=True)
