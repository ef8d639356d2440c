"""Flow-run state hooks: the fast path of write-back.

Hooks do not fire when the infrastructure never starts or is killed whole,
so the event consumer in ``events`` covers the same ends; write-back is
idempotent, so both may report.
"""

from __future__ import annotations

import logging

from resolwe_prefect.execution.django_setup import ensure_django

logger = logging.getLogger(__name__)


def _data_id(flow_run) -> int | None:
    """The run's Data object: its ``data_id`` parameter, or the object a launch run created for itself."""
    value = (flow_run.parameters or {}).get("data_id")
    if value is not None:
        return int(value)
    from resolwe_prefect.data.models import Data

    return Data.objects.filter(flow_run_id=flow_run.id).values_list("pk", flat=True).first()


def on_crashed(flow, flow_run, state) -> None:
    """The flow run crashed: its Data object ends in ER with Prefect's message."""
    ensure_django()
    from resolwe_prefect.data import lifecycle
    from resolwe_prefect.data.models import Data
    from resolwe_prefect.execution.backends import abandon_program
    from resolwe_prefect.execution.writeback import fail_flow_run, runtime_dir

    message = f"Processing crashed: {state.message or state.name}"
    data_id = _data_id(flow_run)
    changed = fail_flow_run(str(flow_run.id), message, data_id=data_id)
    if changed is not None:
        lifecycle.children_finished(changed)
    # The flow-run process died; its program (own session or container) did
    # not, and must not keep writing into the Data directory. The event
    # consumer may have written ER first, so this does not depend on who did.
    if data_id is not None and Data.objects.filter(pk=data_id, flow_run_id=flow_run.id).exists():
        try:
            abandon_program(data_id, str(runtime_dir(data_id)))
        except Exception:  # noqa: BLE001 - best effort; the Data object is already final
            logger.warning("Could not stop the program of Data %s", data_id, exc_info=True)


def on_cancellation(flow, flow_run, state) -> None:
    """An operator cancelled the flow run: the Data object ends in ER saying so."""
    ensure_django()
    from resolwe_prefect.data import lifecycle
    from resolwe_prefect.execution.writeback import CANCELLED_MESSAGE, fail_flow_run

    data_id = fail_flow_run(str(flow_run.id), CANCELLED_MESSAGE, data_id=_data_id(flow_run))
    if data_id is not None:
        lifecycle.children_finished(data_id)
