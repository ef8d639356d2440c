"""Reconcile Data objects with the final states of their flow runs.

Prefect's hooks miss some ends (infrastructure that never starts, a
container killed whole, an unsupervised run); the event stream and a
periodic sweep of the Prefect API see them all. Everything here goes through
the idempotent write-back, so a state reported twice changes nothing.
"""

from __future__ import annotations

import logging
from uuid import UUID

from resolwe_prefect.data import lifecycle
from resolwe_prefect.execution.writeback import CANCELLED_MESSAGE, fail_flow_run, reopen_for_retry

logger = logging.getLogger(__name__)

FINAL_STATE_NAMES = {"Completed", "Failed", "Crashed", "Cancelled"}


def flow_run_id_of(resource_id: str) -> UUID | None:
    """``prefect.flow-run.<uuid>`` -> the uuid."""
    try:
        return UUID(resource_id.rsplit(".", 1)[-1])
    except ValueError:
        return None


def apply_state(flow_run_id: UUID, state_name: str, message: str | None = None) -> int | None:
    """Bring the Data object of a flow run in line with the run's state; return its id if it changed."""
    if state_name == "AwaitingRetry":
        return reopen_for_retry(str(flow_run_id))
    if state_name not in FINAL_STATE_NAMES:
        return None
    if state_name == "Cancelled":
        text = CANCELLED_MESSAGE
    elif state_name == "Completed":
        text = "Flow run completed without reporting the outcome of the Data object."
    else:
        text = f"Flow run {state_name.lower()}: {message}" if message else f"Flow run {state_name.lower()}."
    data_id = fail_flow_run(str(flow_run_id), text)
    if data_id is not None:
        logger.info("Data %s set to ER from flow run %s (%s)", data_id, flow_run_id, state_name)
        lifecycle.children_finished(data_id)
    return data_id
