"""Hand ready Data objects to Prefect: one flow run each, created from the deployment.

The executor the API and flow-run processes register with ``lifecycle``
(the embedded worker registers itself instead, and creates its runs already
claimed). Creating the flow run is the hand-over: any worker of the pool
picks it up; binding it to its Data object is a ``transitions.bind``.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from uuid import UUID

from resolwe_prefect.data import transitions
from resolwe_prefect.data.models import Data
from resolwe_prefect.execution.prefect_api.client import sync_client
from resolwe_prefect.execution.prefect_api.deployments import deployment_name
from resolwe_prefect.execution.prefect_api.naming import flow_run_request

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _deployment_id() -> UUID:
    flow_name, name = deployment_name()
    with sync_client() as client:
        return client.read_deployment_by_name(f"{flow_name}/{name}").id


def unsubmitted(data_ids: list[int]) -> list[Data]:
    """The Data objects among these that have no flow run yet, with their processes."""
    return list(Data.objects.filter(pk__in=data_ids, flow_run_id__isnull=True).select_related("process"))


def submit_data(data_ids: list[int]) -> list[UUID]:
    """Create one flow run for each Data object that has none yet; return the flow run ids."""
    created: list[UUID] = []
    pending = unsubmitted(data_ids)
    if not pending:
        return created
    with sync_client() as client:
        for data in pending:
            flow_run = client.create_flow_run_from_deployment(_deployment_id(), **flow_run_request(data))
            transitions.bind(data.pk, flow_run.id)
            created.append(flow_run.id)
    return created
