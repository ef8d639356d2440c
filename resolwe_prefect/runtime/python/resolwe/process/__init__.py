"""Resolwe's Python process API (``from resolwe.process import Process, StringField, Cmd, ...``).

Run a process with ``python3 -m resolwe.process.run /runtime/run.json``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from .communicator import communicator
from .descriptor import Persistence, ProcessDescriptor, SchedulingClass, ValidationError
from .fields import (
    BooleanField,
    DataField,
    DateField,
    DateTimeField,
    DirField,
    FileField,
    FileHtmlField,
    FloatField,
    GroupField,
    ImportedFormat,
    IntegerField,
    JsonField,
    ListField,
    SecretField,
    StringField,
    TextField,
    UrlField,
)
from .models import Collection, Data, Entity
from .runtime import Process

Cmd: Any
try:
    from plumbum import local as Cmd

    # Log plumbum commands to standard output (as Resolwe does).
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(asctime)s - %(levelname)s - %(name)s[%(process)s]: %(message)s"))
    _plumbum_logger = logging.getLogger("plumbum.local")
    _plumbum_logger.setLevel(logging.DEBUG)
    _plumbum_logger.addHandler(_handler)
except ImportError:  # pragma: no cover - plumbum is mounted beside this package

    class _MissingPlumbumCmd:
        """Defer the ImportError to the first use of ``Cmd``."""

        def __getitem__(self, cmd: Any) -> Any:
            raise ImportError("Missing 'plumbum' Python package.")

        def __getattr__(self, name: str) -> Any:
            raise ImportError("Missing 'plumbum' Python package.")

    Cmd = _MissingPlumbumCmd()

__all__ = (
    "BooleanField",
    "Cmd",
    "Collection",
    "Data",
    "DataField",
    "DateField",
    "DateTimeField",
    "DirField",
    "Entity",
    "FileField",
    "FileHtmlField",
    "FloatField",
    "GroupField",
    "ImportedFormat",
    "IntegerField",
    "JsonField",
    "ListField",
    "Persistence",
    "Process",
    "ProcessDescriptor",
    "SchedulingClass",
    "SecretField",
    "StringField",
    "TextField",
    "UrlField",
    "ValidationError",
    "communicator",
)
