"""What we ask of the Prefect API, from any process: work pools and deployments, flow runs for
ready Data objects (``submit``) and how they are named, the launch deployments, the client, and the
private Prefect attributes we rely on (``internals``)."""
