"""The embedded worker: what only ``resolwe-prefect worker`` runs (a flow run never imports this).

``serve`` starts it; ``core`` claims and runs flow runs; ``queue`` is
Resolwe's waiting queue; ``events`` and ``sweep`` reconcile Data with
Prefect; ``orphans`` and ``owners`` settle the runs of a worker that died;
``launches`` serves the launch deployments; ``slots`` caps each work queue;
``dispatch`` is the socket the API hands new Data objects over; ``suspension``
shares one suspension observer between the worker's flow runs.
"""
