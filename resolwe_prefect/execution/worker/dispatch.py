"""The hand-over from the API to the embedded worker on the same machine.

Creating a Data object must not wait for Prefect, and a flow run created by
the API would cost the worker an event, a query for scheduled runs, a claim
and a read before anything ran. So the API drops the new Data ids into the worker's datagram socket
(``<state dir>/dispatch-<flow>-<deployment>.sock``, one per deployment, so
that a process configured for another deployment never hands its Data to
this worker) after its transaction commits. The worker
resolves their dependencies itself, creates each flow run already claimed
(Pending, in its work queue) when it has a free slot, and starts it at once.
A send that fails (no worker on this machine, as on a cluster with standard
Prefect workers, or a full socket buffer) returns ``False`` and the API
falls back to creating Scheduled flow runs itself, so nothing is lost; the
worker's sweep also picks up whatever no one submitted.

Only the worker's user can write to the socket (mode 0600). A message is a
hint, never an instruction: the worker re-reads each Data object and only
advances what the database says may run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

#: Ids per datagram: far below the default socket buffer (208 KiB).
CHUNK = 2000


#: A socket path must fit ``sockaddr_un`` (108 bytes on Linux, with its terminating NUL).
MAX_SOCKET_PATH = 100


def socket_path() -> Path:
    """Where the embedded worker of the configured deployment listens, in the state directory API and worker share."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", settings.PREFECT_DEPLOYMENT)
    return Path(settings.STATE_DIR) / f"dispatch-{name}.sock"


def socket_address(path: Path) -> str:
    """The address to bind or send to: the path, or for a path too long for a socket, an abstract name from it.

    An abstract socket has no file mode, but it only exists in the network
    namespace of the worker, which local programs leave unless they ask for
    the network; and a message is only a hint (see the module docstring).
    """
    text = str(path)
    if len(text.encode()) <= MAX_SOCKET_PATH:
        return text
    return "\0resolwe-prefect-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def notify_worker(data_ids: Iterable[int]) -> bool:
    """Tell the embedded worker that these Data objects may be ready; ``False`` when it could not be told."""
    ids = [int(i) for i in data_ids]
    path = socket_path()
    address = socket_address(path)
    if not ids or (address == str(path) and not path.exists()):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            for start in range(0, len(ids), CHUNK):
                sock.sendto(json.dumps(ids[start : start + CHUNK]).encode(), address)
    except OSError as error:  # no listener (stale socket), buffer full, ...: the caller submits itself
        logger.info("Could not hand Data %s to the worker (%s); submitting through Prefect", ids[:5], error)
        return False
    return True


class DispatchListener:
    """The worker's end: reads datagrams of Data ids and passes each list to ``on_ids``."""

    def __init__(self, on_ids: Callable[[list[int]], None], path: Path | None = None) -> None:
        self.on_ids = on_ids
        self.path = path or socket_path()
        self._sock: socket.socket | None = None
        self._loop = None

    def start(self, loop) -> None:
        """Bind the socket (replacing a stale one) and read it from ``loop``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        self.address = socket_address(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        old_umask = os.umask(0o177)  # created 0600: nobody but the worker's user may send
        try:
            sock.bind(self.address)
        except OSError:
            sock.close()
            raise
        finally:
            os.umask(old_umask)
        sock.setblocking(False)
        self._sock, self._loop = sock, loop
        loop.add_reader(sock.fileno(), self._read)

    def _read(self) -> None:
        while self._sock is not None:
            try:
                payload = self._sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                return
            try:
                ids = [int(i) for i in json.loads(payload)]
            except (ValueError, TypeError):
                logger.warning("Ignored a malformed dispatch message (%d bytes)", len(payload))
                continue
            self.on_ids(ids)

    def stop(self) -> None:
        """Stop reading and remove the socket, so that the API falls back at once."""
        if self._sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        self._sock = None
        if self.address == str(self.path):
            self.path.unlink(missing_ok=True)
