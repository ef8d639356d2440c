"""Flow-run state hooks: the fast path of write-back.

The flows that carry them (``flows``) set Django up before importing this.
Hooks do not fire when the infrastructure never starts or is killed whole,
so the embedded worker's event reconciliation (``worker.events``) covers
the same ends; transitions are guarded, so both may report.
"""

from __future__ import annotations

import logging
from typing import Any

from resolwe_prefect.data import layout, transitions
from resolwe_prefect.data.models import Data
from resolwe_prefect.execution.backends import abandon_program
from resolwe_prefect.execution.run.plan import CANCELLED_MESSAGE

logger = logging.getLogger(__name__)


def _data_id(flow_run: Any) -> int | None:
    """The run's Data object: its ``data_id`` parameter, or the object a launch run created for itself."""
    value = (flow_run.parameters or {}).get("data_id")
    if value is not None:
        return int(value)
    return Data.objects.filter(flow_run_id=flow_run.id).values_list("pk", flat=True).first()


def on_crashed(flow: Any, flow_run: Any, state: Any) -> None:
    """The flow run crashed: its Data object ends in ER with Prefect's message."""
    message = f"Processing crashed: {state.message or state.name}"
    data_id = _data_id(flow_run)
    transitions.fail(flow_run.id, message, data_id=data_id)
    # The flow-run process died; its program (a container, or a sandbox whose
    # parent was another process) may not have, and must not keep writing into
    # the Data directory. Whoever wrote ER first, the program is stopped here.
    if data_id is not None and transitions.is_bound(data_id, flow_run.id):
        try:
            abandon_program(data_id, str(layout.runtime_dir(data_id)))
        except Exception:  # noqa: BLE001 - best effort; the Data object is already final
            logger.warning("Could not stop the program of Data %s", data_id, exc_info=True)


def on_cancellation(flow: Any, flow_run: Any, state: Any) -> None:
    """An operator cancelled the flow run: the Data object ends in ER saying so."""
    transitions.fail(flow_run.id, CANCELLED_MESSAGE, data_id=_data_id(flow_run))
