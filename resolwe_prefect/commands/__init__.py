"""Subcommands of the ``resolwe-prefect`` console script (besides ``manage``)."""

from .demo import demo
from .stack import up, worker

__all__ = ["demo", "up", "worker"]
