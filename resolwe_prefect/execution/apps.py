"""The execution layer as a Django app: it tells the data app where ready Data objects go.

In every process that loads Django (the API, a flow run under any Prefect
worker, management commands) ready Data objects become Prefect flow runs,
and a request first offers its new Data objects to an embedded worker on
this machine over its socket. The embedded worker registers itself instead
(``worker.core``).
"""

from __future__ import annotations

from django.apps import AppConfig


def submit_to_prefect(data_ids: list[int]) -> object:
    """Create the flow runs of ready Data objects (Prefect's client is imported on first use, not at start)."""
    from resolwe_prefect.execution.prefect_api.submit import submit_data

    return submit_data(data_ids)


class ExecutionConfig(AppConfig):
    name = "resolwe_prefect.execution"
    label = "execution"
    verbose_name = "Execution (Prefect)"

    def ready(self) -> None:
        from resolwe_prefect.data import lifecycle
        from resolwe_prefect.execution.worker.dispatch import notify_worker

        lifecycle.register(submit_to_prefect, notify_worker)
