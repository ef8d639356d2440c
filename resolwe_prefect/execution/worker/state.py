"""What the embedded worker's parts share: its flow runs, its slots and its wake-up calls.

The worker is one object assembled from parts by job (``core`` claims and
runs flow runs, ``queue`` is Resolwe's waiting queue, ``events`` reconciles
Prefect's events, ``sweep`` is the safety net, ``orphans`` settles dead
workers' runs, ``launches`` keeps the launch deployments). Each part reads
and writes only the state declared here, and calls the others only through
the methods declared here.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from typing import Any
from uuid import UUID

from resolwe_prefect.execution.worker.owners import owner_token
from resolwe_prefect.execution.worker.slots import Slots

#: Flow runs the worker creates at once when slots free together.
CONCURRENT_CREATES = 8


class WorkerState:
    """The state of one embedded worker, and the calls its parts make on each other."""

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
        #: The flow runs this worker runs now, each an asyncio task.
        self.running: dict[UUID, asyncio.Task[None]] = {}
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
        self._processes_seen: tuple[Any, ...] | None = None
        # Flow runs this worker ran to their end: their final events are our
        # own news (the flow wrote its Data object), so reading the run back
        # for each of them would only cost the server a request.
        self._ended: OrderedDict[UUID, None] = OrderedDict()
        # Resolwe's waiting queue (see ``queue``): Data ids to resolve, Data ids
        # ready for a flow run, and ready Data waiting for a slot, by work queue,
        # oldest first. A waiting Data object (WT) gets its flow run when a slot
        # frees, so a fan-out of thousands costs no flow run until then.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._to_resolve: dict[int, None] = {}
        self._ready: dict[int, None] = {}
        self._dispatch_wake = asyncio.Event()
        self._waiting: dict[str, deque[int]] = {queue: deque() for queue in self.slots.limits}
        self._waiting_ids: set[int] = set()
        self._creating = asyncio.Semaphore(CONCURRENT_CREATES)

    # --- calls between the parts (each implemented by one part) ---------------------------

    async def _claim(
        self, client: Any, flow_run_id: UUID, queue: str, flow_run: Any = None, *, reserved: bool = False
    ) -> bool:
        raise NotImplementedError  # core

    def _start(self, flow_run_id: UUID, queue: str, flow_run: Any = None, *, reserved: bool = False) -> None:
        raise NotImplementedError  # core

    async def _cancel(self, flow_run_id: UUID) -> None:
        raise NotImplementedError  # core

    async def _record_cancelled(self, flow_run_id: UUID) -> None:
        raise NotImplementedError  # core

    async def recover_orphans(self) -> int:
        raise NotImplementedError  # orphans

    async def sync_launch_deployments(self) -> None:
        raise NotImplementedError  # launches
