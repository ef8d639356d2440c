"""The embedded worker: runs Data flow runs in-process, as async tasks.

It is a Prefect worker in all but the process boundary, and the dispatcher
of the Data objects on its machine. New Data arrive from the API over the
dispatch socket (``dispatch``), and Data released by a finished input arrive
from its own flow runs (``submit.set_local_executor``); it resolves their
dependencies, queues the ready ones per work queue, and when a slot frees
creates the flow run already claimed (Pending) and runs it with Prefect's
flow engine. Flow runs that others schedule (launches from the UI, an
operator's retry, the API's fallback) it claims by proposing Pending, as
any Prefect worker does, the moment the event stream announces them. One
event loop runs many flow runs; the programs themselves run in backends
(subprocess, container), so one slow program does not hold up the others.
Runs left by a worker that died are settled by ``orphans``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from datetime import timedelta
from typing import Any
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
from prefect.states import Cancelled, Completed, Crashed, Pending

from resolwe_prefect.data import lifecycle
from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.execution import events
from resolwe_prefect.execution.deployments import work_queue_for
from resolwe_prefect.execution.orphans import OrphanRecovery, data_of, owner_token
from resolwe_prefect.execution.slots import Slots
from resolwe_prefect.execution.writeback import CANCELLED_MESSAGE, fail_flow_run

logger = logging.getLogger(__name__)

#: Flow runs the worker creates at once when slots free together.
CONCURRENT_CREATES = 8
#: How many of its own ended flow runs a worker remembers (see ``DataWorker._ended``).
ENDED_MEMORY = 10_000
FINAL_TYPES = (StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)


class DataWorker(OrphanRecovery):
    """Claims and runs the flow runs of one work pool."""

    def __init__(
        self,
        work_pool: str,
        deployment_id: UUID,
        *,
        slots: dict[str, int],
        poll_seconds: float = 5.0,
        sweep_seconds: float = 15.0,
    ) -> None:
        self.work_pool = work_pool
        self.deployment_id = deployment_id
        self.slots = Slots(slots)
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self.running: dict[UUID, asyncio.Task] = {}
        self.owner = owner_token()
        self._wake = asyncio.Event()
        # Set when the server may hold scheduled runs we do not know of (created
        # by others, retried by an operator); cleared once we have asked it.
        self._query_server = True
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
        # Direct dispatch (see ``dispatch``): Data ids to resolve, Data ids
        # ready for a flow run, and ready Data waiting for a slot, by queue,
        # oldest first. A waiting Data object (WT) gets its flow run when a
        # slot frees, so a fan-out of thousands costs no flow run until then.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._to_resolve: dict[int, None] = {}
        self._ready: dict[int, None] = {}
        self._dispatch_wake = asyncio.Event()
        self._waiting: dict[str, deque[int]] = {queue: deque() for queue in self.slots.limits}
        self._waiting_ids: set[int] = set()
        self._creating = asyncio.Semaphore(CONCURRENT_CREATES)

    async def run(self) -> None:
        """Serve until cancelled.

        Everything runs inside one async and one sync Prefect client
        context, so that every ``get_client()`` on this loop (the engine's,
        the artifacts', the result store's, ours) reuses a client and its
        connections instead of building a new one with a fresh TLS context
        (see ``client``), and inside one shared suspension observer (see
        ``suspension``).
        """
        from prefect.context import AsyncClientContext, SyncClientContext

        from resolwe_prefect.execution.suspension import SharedSuspensionObserver

        with SyncClientContext():
            async with AsyncClientContext(), SharedSuspensionObserver():
                await self._serve()

    async def _serve(self) -> None:
        from resolwe_prefect.execution.flows import process_data

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
        from resolwe_prefect.execution import submit
        from resolwe_prefect.execution.dispatch import DispatchListener

        self._loop = asyncio.get_running_loop()
        listener = DispatchListener(self.notified)
        submit.set_local_executor(self.hand_over)
        try:
            listener.start(self._loop)
        except OSError:  # the API then submits through Prefect, as to any other worker
            logger.warning("Could not listen on %s; new Data reach this worker through Prefect", listener.path,
                           exc_info=True)  # fmt: skip
        try:
            await asyncio.gather(self._poll_loop(), self._event_loop(), self._sweep_loop(), self._dispatch_loop())
        finally:
            listener.stop()
            submit.set_local_executor(None)

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

    async def _claim(self, client, flow_run_id: UUID, queue: str, flow_run=None, *, reserved: bool = False) -> bool:
        """Propose Pending (the server refuses a run another worker claimed first) and start the run."""
        result = await client.set_flow_run_state(flow_run_id, Pending(), force=False)
        if result.status != SetStateStatus.ACCEPT:
            return False
        if flow_run is not None:
            flow_run.state = result.state
        self._start(flow_run_id, queue, flow_run, reserved=reserved)
        return True

    def _start(self, flow_run_id: UUID, queue: str, flow_run=None, *, reserved: bool = False) -> None:
        """Run a claimed flow run in a slot of ``queue`` (already taken when ``reserved``)."""
        if not reserved:
            self.slots.take(queue)
        self.running[flow_run_id] = asyncio.create_task(self._execute(flow_run_id, queue, flow_run))

    async def _execute(self, flow_run_id: UUID, queue: str, flow_run=None) -> None:
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
            await sync_to_async(events.apply_state, thread_sensitive=False)(flow_run_id, "Crashed", "engine error")
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
        data_id = await sync_to_async(fail_flow_run, thread_sensitive=False)(str(flow_run_id), CANCELLED_MESSAGE)
        if data_id is not None:
            await sync_to_async(lifecycle.children_finished, thread_sensitive=False)(data_id)

    async def _finish_cancelled(self, flow_run_id: UUID) -> None:
        await self._record_cancelled(flow_run_id)
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, Cancelled(message=CANCELLED_MESSAGE), force=True)

    # --- direct dispatch: Data objects handed over in this process ------------------------

    def notified(self, data_ids: list[int]) -> None:
        """The API created these Data objects (``dispatch``): resolve their dependencies, then submit."""
        self._to_resolve.update(dict.fromkeys(data_ids))
        self._dispatch_wake.set()

    def hand_over(self, data_ids: list[int]) -> None:
        """Take Data objects whose inputs are done, from any thread (``submit.set_local_executor``)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._enqueue_ready, list(data_ids))

    def _enqueue_ready(self, data_ids: list[int]) -> None:
        self._ready.update(dict.fromkeys(data_ids))
        self._dispatch_wake.set()

    async def _dispatch_loop(self) -> None:
        while True:
            await self._dispatch_wake.wait()
            self._dispatch_wake.clear()
            to_resolve, self._to_resolve = list(self._to_resolve), {}
            if to_resolve:
                try:  # the ready ones come back through ``hand_over``
                    await sync_to_async(lifecycle.advance, thread_sensitive=False)(to_resolve)
                except Exception:  # the sweep advances whatever is left
                    logger.exception("Could not resolve Data %s", to_resolve[:10])
            ready, self._ready = list(self._ready), {}
            if ready:
                try:
                    await self.dispatch(ready)
                except Exception:
                    logger.exception("Could not queue Data %s; the sweep retries", ready[:10])
            try:
                await self.start_waiting()
            except Exception:
                logger.exception("Could not start waiting Data; retrying when a slot frees")

    async def dispatch(self, data_ids: list[int]) -> None:
        """Queue these ready Data objects (WT), each in its work queue; ``start_waiting`` starts them."""
        from resolwe_prefect.execution import submit

        rows = await sync_to_async(submit.queue_unsubmitted, thread_sensitive=False)(data_ids)
        for data_id, scheduling_class in rows:
            if data_id not in self._waiting_ids:
                self._waiting_ids.add(data_id)
                self._waiting[self.slots.queue_of(work_queue_for(scheduling_class))].append(data_id)

    async def start_waiting(self) -> int:
        """Give waiting Data objects a flow run, created already claimed (Pending), while slots are free."""
        from resolwe_prefect.execution import submit

        chosen: list[tuple[str, int]] = []
        for queue, waiting in self._waiting.items():
            while waiting and self.slots.take(queue):
                data_id = waiting.popleft()
                self._waiting_ids.discard(data_id)
                chosen.append((queue, data_id))
        if not chosen:
            return 0
        try:
            datas = {
                d.pk: d for d in await sync_to_async(submit.unsubmitted, thread_sensitive=False)([i for _, i in chosen])
            }
        except BaseException:
            for queue, _ in chosen:
                self.slots.release(queue)
            raise
        outcomes = await asyncio.gather(
            *(self._submit_one(datas[data_id], queue) if data_id in datas else self._release(queue)
              for queue, data_id in chosen),
            return_exceptions=True,
        )  # fmt: skip
        started = 0
        for (_queue, data_id), outcome in zip(chosen, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                logger.warning("Could not submit Data %s: %r; the sweep retries", data_id, outcome)
            elif outcome:
                started += 1
        return started

    async def _release(self, queue: str) -> bool:
        """The Data object went away (deleted, submitted by someone else) while it waited."""
        self.slots.release(queue)
        return False

    async def _submit_one(self, data: Data, queue: str) -> bool:
        """Create the flow run of a Data object in a slot already taken, and start it; ``False`` if not ours."""
        from resolwe_prefect.execution import submit

        started = False
        try:
            async with self._creating, get_client() as client:
                flow_run = await client.create_flow_run_from_deployment(
                    self.deployment_id, state=Pending(), **submit.flow_run_request(data)
                )
                if not await sync_to_async(submit.bind_flow_run, thread_sensitive=False)(data.pk, flow_run.id):
                    # Someone else submitted it meanwhile (another worker, the
                    # API's fallback); the idempotency key gave us their run.
                    return False
                state = flow_run.state.type if flow_run.state else None
                if state == StateType.SCHEDULED:
                    # An earlier, unbound run of this attempt: claim it like any other.
                    started = await self._claim(client, flow_run.id, queue, flow_run, reserved=True)
                elif state == StateType.PENDING:
                    self._start(flow_run.id, queue, flow_run, reserved=True)
                    started = True
                return started
        finally:
            if not started:
                self.slots.release(queue)

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
                            logger.warning(
                                "Could not handle event %s; the sweep catches up", event.event, exc_info=True
                            )
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
            if flow_run_id not in self.running:
                self._query_server = True
                self._wake.set()
        elif state_name == "AwaitingRetry":
            current = await self._current_state(flow_run_id)
            if current is None or current.type in FINAL_TYPES:
                logger.info(
                    "Event %s (%s) for flow run %s is stale (now %s); ignored",
                    state_name,
                    event_id,
                    flow_run_id,
                    current and current.name,
                )
            else:
                changed = await sync_to_async(events.apply_state, thread_sensitive=False)(flow_run_id, state_name)
                logger.info(
                    "Event %s (%s) for flow run %s: %s",
                    state_name,
                    event_id,
                    flow_run_id,
                    f"Data {changed} reopened" if changed else "no change",
                )
            self._query_server = True
            self._wake.set()
        elif state_name == "Cancelling":
            if flow_run_id not in self.running or flow_run_id in self._cancelling:
                return  # not ours, or a repeated event: cancel once
            current = await self._current_state(flow_run_id)
            if current is None or current.type != StateType.CANCELLING:
                logger.info("Event Cancelling (%s) for flow run %s is stale; ignored", event_id, flow_run_id)
                return
            await self._cancel(flow_run_id)
        elif state_name in events.FINAL_STATE_NAMES:
            if flow_run_id in self._ended and flow_run_id not in self.running:
                # We ran it to its end ourselves: the flow has written its Data object.
                logger.info(
                    "Event %s (%s) for flow run %s: no change (this worker ran it)", state_name, event_id, flow_run_id
                )
                return
            current = await self._current_state(flow_run_id)
            if current is None or current.type not in FINAL_TYPES:
                logger.info(
                    "Event %s (%s) for flow run %s is stale (now %s); ignored",
                    state_name,
                    event_id,
                    flow_run_id,
                    current and current.name,
                )
                return
            changed = await sync_to_async(events.apply_state, thread_sensitive=False)(
                flow_run_id, current.name, current.message
            )
            logger.info(
                "Event %s (%s) for flow run %s: %s",
                state_name,
                event_id,
                flow_run_id,
                f"Data {changed} set to ER" if changed else "no change",
            )

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
                await sync_to_async(events.apply_state, thread_sensitive=False)(
                    run.id, run.state.name, run.state.message
                )
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
        self._query_server = True
        self._wake.set()

    async def _settle_flow_run(self, flow_run_id: UUID, message: str) -> None:
        """Give a run whose engine failed a final state in Prefect that matches its Data object."""
        status = (await sync_to_async(data_of, thread_sensitive=False)(flow_run_id) or (None, None))[1]
        async with get_client() as client:
            current = (await client.read_flow_run(flow_run_id)).state
            if current is not None and current.type in FINAL_TYPES:
                return
            state = Completed(message=message) if status == DataStatus.DONE else Crashed(message=message)
            await client.set_flow_run_state(flow_run_id, state, force=True)


async def serve() -> None:
    """Entry point of ``resolwe-prefect worker``."""
    from resolwe_prefect.execution.deployments import ensure_local_deployment, queue_limits

    deployment_id = await ensure_local_deployment()
    # The worker holds each queue to the limit the server holds it to (batch:
    # WORKER_CONCURRENCY, interactive: WORKER_INTERACTIVE_SLOTS): the runs it
    # creates already claimed never pass through the server's scheduling.
    slots = {queue: limit for queue, (_priority, limit) in queue_limits().items()}
    worker = DataWorker(settings.PREFECT_WORK_POOL, deployment_id, slots=slots)
    await worker.run()
