"""The Prefect layer: each Data object is one flow run.

Laid out by where code runs:

- ``flows`` (the entrypoint ``prefect.yaml`` names) and ``run``: a flow run, under any worker;
- ``backends``: where a flow run's program runs (a sandbox, a container, a Kubernetes Job);
- ``prefect_api``: talking to the Prefect server, from any process;
- ``worker``: the embedded worker only (never imported by a flow run);
- ``apps``: tells the data app where ready Data objects go.

Nothing here speaks HTTP to users.
"""
