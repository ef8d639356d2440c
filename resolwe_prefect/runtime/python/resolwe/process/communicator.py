"""``resolwe.process.communicator.communicator``: Resolwe's low-level protocol object.

Processes should use the models; this exists for code that imports it (as
resolwe-bio's ``ProcessBio`` does). The reports Resolwe sends through it
(``progress``, ``process_log``, ``annotate``, ``export_files``, ``run``)
become records; any other ``communicator.<command>(args)`` is sent over the
channel as ``{"command": "<command>", "args": {"args": args}}`` (the flow run
refuses what it does not know).
"""

from __future__ import annotations

from typing import Any, Callable

from . import records
from .channel import channel

__all__ = ["communicator"]


def _json(value: Any) -> str:
    from .fields import _json_arg

    return _json_arg(value)


class Communicator:
    """Resolwe's ``communicator`` over records and the channel."""

    def progress(self, progress: float) -> None:
        """Progress in percent (Resolwe's wire format) or a fraction."""
        value = float(progress)
        records.write_record("progress", repr(value / 100 if value > 1 else value))

    def process_log(self, log: dict[str, list[str]]) -> None:
        """``{"info": [...], "warning": [...], "error": [...]}``."""
        for kind in ("info", "warning", "error"):
            messages = log.get(kind, [])
            for message in [messages] if isinstance(messages, str) else messages:
                records.write_record(kind, message)

    def annotate(self, annotations: dict[str, Any]) -> None:
        """Annotate the running Data object's entity."""
        for key, value in annotations.items():
            records.write_record("annotate-entity", key, _json(value))

    def export_files(self, files: list[str]) -> None:
        """Export files for a spawned process."""
        for name in files:
            records.write_record("export", name)

    def run(self, data: dict[str, Any]) -> None:
        """Spawn ``{"process": slug, "input": {...}}``."""
        records.write_record("run", data["process"], _json(data.get("input", {})))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call_command(*args: Any) -> Any:
            return channel.request(name, args=args[0] if len(args) == 1 else list(args))

        return call_command


communicator = Communicator()
