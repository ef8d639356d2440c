"""Process metadata: scheduling class, persistence, the process descriptor."""

from __future__ import annotations

import collections
import re
from typing import Any

#: Process type validation (as Resolwe's registration).
PROCESSOR_TYPE_RE = re.compile(r"^data:[a-z0-9:]+$")

__all__ = ["Persistence", "ProcessDescriptor", "SchedulingClass", "ValidationError"]


class SchedulingClass:
    """Process scheduling class."""

    INTERACTIVE = "interactive"
    BATCH = "batch"


class Persistence:
    """Process data persistence."""

    RAW = "RAW"
    CACHED = "CACHED"
    TEMP = "TEMP"


class ValidationError(Exception):
    """Process descriptor (or field value) validation error."""


class ProcessDescriptor:
    """What a ``Process`` subclass declares: metadata, inputs and outputs."""

    class Metadata:
        """General process metadata (the class attributes a process sets)."""

        slug: Any = None
        name: Any = None
        process_type: Any = None
        description: Any = None
        version: Any = None
        category: Any = None
        scheduling_class: Any = None
        persistence: Any = None
        requirements: Any = None
        data_name: Any = None
        entity: Any = None
        lineno: Any = None

        def __repr__(self) -> str:
            return repr(self.__dict__)

    def __init__(self, source: Any = None, parent_process: Any = None):
        self.metadata = ProcessDescriptor.Metadata()
        self.inputs: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self.outputs: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self.relations = None
        self.name = None
        self.source = source
        self.parent_process = parent_process

    def validate(self) -> None:
        """Raise :class:`ValidationError` when required metadata is missing or invalid."""
        for field in ("slug", "name", "process_type", "version"):
            if getattr(self.metadata, field, None) is None:
                raise ValidationError(
                    f"process '{self.metadata.slug or '<unknown>'}' is missing required meta attribute: {field}"
                )
        if not PROCESSOR_TYPE_RE.match(str(self.metadata.process_type)):
            raise ValidationError(f"process '{self.metadata.slug}' has invalid type: {self.metadata.process_type}")

    def __repr__(self) -> str:
        return (
            f"<ProcessDescriptor metadata={self.metadata!r} inputs={dict(self.inputs)!r} "
            f"outputs={dict(self.outputs)!r}>"
        )
