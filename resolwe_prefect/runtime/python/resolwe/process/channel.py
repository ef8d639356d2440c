"""The request/reply channel to the flow run (the object API's only way out).

``RESOLWE_CHANNEL`` is a Unix socket path (``/runtime/channel.sock``, also
``unix:///path``) or ``tcp://host:port``; for TCP, ``RESOLWE_CHANNEL_TOKEN``
is sent first as ``{"token": "..."}``. Framing: one JSON object per line.
Request ``{"id": n, "command": "...", "args": {...}}``, reply
``{"id": n, "result": ...}`` or ``{"id": n, "error": "message"}``.

An ``error`` reply raises :class:`ChannelError` (a ``RuntimeError`` whose
text is the message, as Resolwe's Python processes see listener refusals).
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import threading
from pathlib import PurePath
from typing import Any

ENV_CHANNEL = "RESOLWE_CHANNEL"
ENV_TOKEN = "RESOLWE_CHANNEL_TOKEN"

__all__ = ["Channel", "ChannelError", "channel", "to_json"]


class ChannelError(RuntimeError):
    """The flow run refused a request; ``str()`` is its message."""


def to_json(value: Any) -> Any:
    """Plain JSON of a value: objects by id, files by path, dates as ISO text."""
    from .fields import DirDescriptor, FileDescriptor, GroupDescriptor
    from .models import Model

    if isinstance(value, Model):
        return value.id
    if isinstance(value, (FileDescriptor, DirDescriptor)):
        return value.path
    if isinstance(value, GroupDescriptor):
        return {key: to_json(item) for key, item in value._value.items()}
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(item) for item in value]
    return value


class Channel:
    """A lazily connected client; one request at a time, reconnects after a fork."""

    def __init__(self, address: str | None = None, token: str | None = None):
        self._address = address
        self._token = token
        self._sock: socket.socket | None = None
        self._reader: Any = None
        self._pid = -1
        self._next_id = 0
        self._lock = threading.Lock()

    @property
    def address(self) -> str | None:
        """Where the channel is (explicit, else ``$RESOLWE_CHANNEL``)."""
        return self._address or os.environ.get(ENV_CHANNEL) or None

    def _connect(self) -> None:
        address = self.address
        if not address:
            raise ChannelError(f"The object API is not available: {ENV_CHANNEL} is not set.")
        if address.startswith("tcp://"):
            host, _, port = address[len("tcp://") :].rstrip("/").rpartition(":")
            sock = socket.create_connection((host.strip("[]"), int(port)))
        else:
            path = address[len("unix://") :] if address.startswith("unix://") else address
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
            except OSError:
                sock.close()
                raise
        self._sock = sock
        self._reader = sock.makefile("rb")
        self._pid = os.getpid()
        token = self._token or os.environ.get(ENV_TOKEN)
        if address.startswith("tcp://") and token:
            sock.sendall(json.dumps({"token": token}).encode() + b"\n")

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self._reader is not None:
            try:
                self._reader.close()
            except OSError:
                pass
        if self._sock is not None and self._pid == os.getpid():
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._reader = None

    def request(self, command: str, **args: Any) -> Any:
        """Send one request and return its ``result``; raise :class:`ChannelError` on ``error``."""
        with self._lock:
            if self._sock is None or self._pid != os.getpid():
                # A forked child must not share its parent's connection.
                self._sock = None
                self._reader = None
                try:
                    self._connect()
                except OSError as error:
                    raise ChannelError(f"Cannot connect to the channel at {self.address}: {error}") from None
            assert self._sock is not None
            self._next_id += 1
            request_id = self._next_id
            line = json.dumps({"id": request_id, "command": command, "args": to_json(args)})
            try:
                self._sock.sendall(line.encode("utf-8") + b"\n")
                raw = self._reader.readline()
            except OSError as error:
                self.close()
                raise ChannelError(f"The channel failed during '{command}': {error}") from None
            if not raw:
                self.close()
                raise ChannelError(f"The channel closed during '{command}'.")
            try:
                reply = json.loads(raw.decode("utf-8"))
            except ValueError:
                self.close()
                raise ChannelError(f"Invalid reply on the channel to '{command}'.") from None
        if not isinstance(reply, dict) or reply.get("id") != request_id:
            self.close()
            raise ChannelError(f"Unexpected reply on the channel to '{command}'.")
        if "error" in reply:
            raise ChannelError(str(reply["error"]))
        return reply.get("result")


#: The channel every model of this program uses.
channel = Channel()
