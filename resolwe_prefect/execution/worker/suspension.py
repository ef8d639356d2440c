"""One suspension observer for every flow run the embedded worker runs.

For each deployment flow run, Prefect's async flow engine
(``prefect.flow_engine``) watches for an operator's "Suspend" with
``observe_flow_run_suspension``: a new thread with its own event loop, its
own client and its own event-stream subscription. It *blocks the calling
event loop* until that thread has connected, and again (up to 2 s) when the
run ends. In a process per flow run that is harmless; in the embedded worker,
where one event loop runs every flow run, each start and end froze all the
others (see docs/performance.md).

``SharedSuspensionObserver`` keeps Prefect's behaviour, with Prefect's own
``FlowRunSuspendingObserver``, the way Prefect's runner does it: one
observer on the worker's loop that watches every flow run in flight. While it
is entered, the engine's ``observe_flow_run_suspension`` is this observer's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from resolwe_prefect.execution.prefect_api.internals import internal, module_of

logger = logging.getLogger(__name__)


class SharedSuspensionObserver:
    """An async context manager: while entered, in-process flow runs share one suspension observer."""

    def __init__(self) -> None:
        self._observer: Any = None
        self._requests: dict[UUID, Any] = {}
        self._watches: dict[UUID, asyncio.Task[Any]] = {}
        self._replaced: Any = None

    async def __aenter__(self) -> SharedSuspensionObserver:
        flow_engine = module_of("observe_flow_run_suspension")
        observer = internal("FlowRunSuspendingObserver")(on_suspended=self._on_suspended)
        try:
            await observer.__aenter__()
        except Exception:  # noqa: BLE001 - keep Prefect's own per-run observers
            logger.warning("Could not start the shared suspension observer; flow runs watch for themselves",
                           exc_info=True)  # fmt: skip
            return self
        self._observer = observer
        self._replaced = flow_engine.observe_flow_run_suspension
        flow_engine.observe_flow_run_suspension = self.observe
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._observer is None:
            return
        module_of("observe_flow_run_suspension").observe_flow_run_suspension = self._replaced
        for task in self._watches.values():
            task.cancel()
        observer, self._observer = self._observer, None
        await observer.__aexit__(*exc_info)

    @contextmanager
    def observe(self, flow_run_id: UUID, suspension_request: Any, polling_interval: float = 10) -> Iterator[None]:
        """Stand-in for ``prefect._flow_run_suspension.observe_flow_run_suspension``; never blocks the loop."""
        observer = self._observer
        if observer is None:  # left while a run was starting
            with self._replaced(flow_run_id, suspension_request, polling_interval):
                yield
            return
        self._requests[flow_run_id] = suspension_request
        self._watches[flow_run_id] = asyncio.get_running_loop().create_task(observer.watch_flow_run_id(flow_run_id))
        try:
            yield
        finally:
            self._requests.pop(flow_run_id, None)
            task = self._watches.pop(flow_run_id, None)
            if task is not None:
                task.cancel()
            observer.remove_in_flight_flow_run_id(flow_run_id)

    def _on_suspended(self, flow_run_id: UUID, state: Any) -> None:
        if not internal("mark_flow_run_suspension_requested")(flow_run_id, state):
            request = self._requests.get(flow_run_id)
            if request is not None:
                request.mark_requested(state)
