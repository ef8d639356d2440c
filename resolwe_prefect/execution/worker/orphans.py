"""Flow runs whose worker died, and how a worker tells.

The embedded worker runs its flow runs in its own process, so a worker that
dies (SIGKILL, OOM, a crash) leaves them Pending or Running in Prefect with
no one to end them, and no Prefect hook fires. Every worker names itself in
the runs it claims (``infrastructure_pid``: host, pid and process start
time; see ``owners``), and ``OrphanRecovery`` (a part of the worker) settles
the runs of owners that are gone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.utils import timezone
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import State, StateType
from prefect.states import Cancelled, Completed, Crashed, Failed, Scheduled

from resolwe_prefect.data.layout import runtime_dir
from resolwe_prefect.data.models import Data, DataStatus
from resolwe_prefect.execution.backends import abandon_program
from resolwe_prefect.execution.run.plan import CANCELLED_MESSAGE
from resolwe_prefect.execution.worker import events
from resolwe_prefect.execution.worker.owners import owner_alive
from resolwe_prefect.execution.worker.state import WorkerState

logger = logging.getLogger(__name__)

# A flow run Pending with no owner recorded was claimed by a worker that died
# between the claim and recording itself; after this long it is handed back.
UNOWNED_PENDING_SECONDS = 60.0


class OrphanRecovery(WorkerState):
    """Recovery of dead workers' flow runs."""

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

    async def _recover(self, run: Any, owner: str | None) -> None:
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
                self._query_server = True
                self._wake.set()
                return
        data = await sync_to_async(data_of, thread_sensitive=False)(run.id)
        # A deleted Data object's program must stop too: its id is still the run's parameter.
        data_id = data[0] if data is not None else (run.parameters or {}).get("data_id")
        if isinstance(data_id, int):
            await asyncio.to_thread(abandon_program, data_id, str(runtime_dir(data_id)))
        state: State[Any]
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


def data_of(flow_run_id: UUID) -> tuple[int, str] | None:
    """The Data object a flow run currently owns: ``(id, status)``."""
    return Data.objects.filter(flow_run_id=flow_run_id).values_list("pk", "status").first()
