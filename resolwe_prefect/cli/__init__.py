"""Subcommands of the ``resolwe-prefect`` console script (besides ``manage``)."""

from .demo import demo
from .stack import pools, up, worker

__all__ = ["demo", "pools", "up", "worker"]
