"""Resolwe's waiting queue, kept by the embedded worker: ready Data objects waiting for a slot.

New Data objects arrive from the API over the dispatch socket (``dispatch``),
and Data objects released by a finished input arrive from the worker's own
flow runs (``lifecycle``, to which the worker registers ``hand_over``). The
worker resolves their dependencies, queues the ready ones (WT) per work
queue, and when a slot frees creates the flow run already claimed (Pending)
and starts it: a fan-out of thousands costs no flow run until a slot frees.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.states import Pending

from resolwe_prefect.data import lifecycle, transitions
from resolwe_prefect.data.models import Data
from resolwe_prefect.execution.prefect_api.deployments import work_queue_for
from resolwe_prefect.execution.prefect_api.naming import flow_run_request
from resolwe_prefect.execution.prefect_api.submit import unsubmitted
from resolwe_prefect.execution.worker.state import WorkerState

logger = logging.getLogger(__name__)


def waiting_rows(data_ids: list[int]) -> list[tuple[int, str]]:
    """Queue the unsubmitted Data objects among these (WT); ``(id, scheduling class)`` of each.

    Only two columns are read, so queueing a fan-out of thousands holds two
    small values per object, not the objects.
    """
    rows = list(
        Data.objects.filter(pk__in=data_ids, flow_run_id__isnull=True)
        .order_by("pk")
        .values_list("pk", "process__scheduling_class")
    )
    transitions.queue(pk for pk, _ in rows)
    return rows


class WaitingQueue(WorkerState):
    """The worker's part that takes ready Data objects and starts their flow runs as slots free."""

    def notified(self, data_ids: list[int]) -> None:
        """The API created these Data objects (``dispatch``): resolve their dependencies, then submit."""
        self._to_resolve.update(dict.fromkeys(data_ids))
        self._dispatch_wake.set()

    def hand_over(self, data_ids: list[int]) -> None:
        """Take Data objects whose inputs are done, from any thread (registered with ``lifecycle``)."""
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
        rows = await sync_to_async(waiting_rows, thread_sensitive=False)(data_ids)
        for data_id, scheduling_class in rows:
            if data_id not in self._waiting_ids:
                self._waiting_ids.add(data_id)
                self._waiting[self.slots.queue_of(work_queue_for(scheduling_class))].append(data_id)

    async def start_waiting(self) -> int:
        """Give waiting Data objects a flow run, created already claimed (Pending), while slots are free."""
        chosen: list[tuple[str, int]] = []
        for queue, waiting in self._waiting.items():
            while waiting and self.slots.take(queue):
                data_id = waiting.popleft()
                self._waiting_ids.discard(data_id)
                chosen.append((queue, data_id))
        if not chosen:
            return 0
        try:
            datas = {d.pk: d for d in await sync_to_async(unsubmitted, thread_sensitive=False)([i for _, i in chosen])}
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
        started = False
        try:
            async with self._creating, get_client() as client:
                flow_run = await client.create_flow_run_from_deployment(
                    self.deployment_id, state=Pending(), **flow_run_request(data)
                )
                if not await sync_to_async(transitions.bind, thread_sensitive=False)(data.pk, flow_run.id):
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
