"""The ``resolwe-prefect`` command line: ``manage``, ``up``, ``worker``, ``pools`` and ``demo``.

``main`` dispatches; ``stack`` starts the embedded stack (``up``) or its worker,
``demo`` runs the example pipeline, ``prefect_server`` is Prefect's server
command as ``up`` runs it.
"""

from .main import main

__all__ = ["main"]
