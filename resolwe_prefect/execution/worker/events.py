"""Reconciling Data objects with Prefect's flow-run events: the worker's event stream.

Prefect's hooks miss some ends (infrastructure that never starts, a
container killed whole, an unsupervised run); the event stream and the
periodic sweep (``sweep``) see them all. An event is only a cue: what is
written comes from the flow run's current state, through the guarded
transitions, so a state reported twice, late or out of order changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter

from resolwe_prefect.data import transitions
from resolwe_prefect.execution.run.plan import CANCELLED_MESSAGE
from resolwe_prefect.execution.worker.state import WorkerState

logger = logging.getLogger(__name__)

FINAL_STATE_NAMES = {"Completed", "Failed", "Crashed", "Cancelled"}
FINAL_TYPES = (StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)


def flow_run_id_of(resource_id: str) -> UUID | None:
    """``prefect.flow-run.<uuid>`` -> the uuid."""
    try:
        return UUID(resource_id.rsplit(".", 1)[-1])
    except ValueError:
        return None


def apply_state(flow_run_id: UUID, state_name: str, message: str | None = None) -> int | None:
    """Bring the Data object of a flow run in line with the run's state; return its id if it changed."""
    if state_name == "AwaitingRetry":
        return transitions.reopen(flow_run_id)
    if state_name not in FINAL_STATE_NAMES:
        return None
    if state_name == "Cancelled":
        text = CANCELLED_MESSAGE
    elif state_name == "Completed":
        text = "Flow run completed without reporting the outcome of the Data object."
    else:
        text = f"Flow run {state_name.lower()}: {message}" if message else f"Flow run {state_name.lower()}."
    data_id = transitions.fail(flow_run_id, text)
    if data_id is not None:
        logger.info("Data %s set to ER from flow run %s (%s)", data_id, flow_run_id, state_name)
    return data_id


class EventReconciler(WorkerState):
    """The worker's part that follows Prefect's flow-run events."""

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

    async def _current_state(self, flow_run_id: UUID) -> Any:
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
        flow_run_id = flow_run_id_of(resource_id)
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
                changed = await sync_to_async(apply_state, thread_sensitive=False)(flow_run_id, state_name)
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
        elif state_name in FINAL_STATE_NAMES:
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
            changed = await sync_to_async(apply_state, thread_sensitive=False)(
                flow_run_id, current.name, current.message
            )
            logger.info(
                "Event %s (%s) for flow run %s: %s",
                state_name,
                event_id,
                flow_run_id,
                f"Data {changed} set to ER" if changed else "no change",
            )
