"""The channel: how a Python process's program asks its flow run for objects (docs/python-processes.md, part 3).

The flow run serves it while the program runs: a Unix stream socket at
``<runtime dir>/channel.sock`` (the program's ``/runtime/channel.sock``) on
the local and Docker backends, a TCP port guarded by a per-run token on
Kubernetes, where the program runs in a pod of its own. One JSON object per
line each way, replies in order::

    {"id": 1, "command": "get", "args": {"model": "Data", "filters": {"id": 12}, "fields": ["name"]}}
    {"id": 1, "result": {"id": 12, "name": "reads"}}        or        {"id": 1, "error": "No objects match ..."}

No credentials reach the program: every request is answered here, with the
ORM in the channel's own thread (one database connection, closed with the
channel), as the Data object's contributor (``object_api``).
A request that is malformed, too large or refused gets an error reply; the
run goes on. Requests are limited in size, number and concurrent connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
import stat
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connections

from resolwe_prefect.data import layout
from resolwe_prefect.execution.backends import Backend
from resolwe_prefect.execution.run.object_api import HANDLERS, REQUEST_ERRORS, Requester
from resolwe_prefect.execution.run.plan import RunPlan
from resolwe_prefect.execution.run.program import CHANNEL_SOCKET, program_path

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1 << 20  # one request line
MAX_REPLY_BYTES = 64 << 20  # one reply line
MAX_REQUESTS = 100_000  # per run
MAX_CONNECTIONS = 8  # at once
TOKEN_TIMEOUT = 30.0
UNIX_PATH_MAX = 100  # sun_path holds 108 bytes; longer paths are bound through /proc/self/fd


def _line(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply, ensure_ascii=False, default=str).encode() + b"\n"


class Channel:
    """The server of one run; ``start_unix`` or ``start_tcp``, then ``close`` when the program has ended."""

    def __init__(self, plan: RunPlan, backend: Backend, *, max_requests: int = MAX_REQUESTS) -> None:
        self.plan = plan
        self.backend = backend
        self.max_requests = max_requests
        self.requests = 0
        self.token: str | None = None
        self.address = ""
        self._server: asyncio.AbstractServer | None = None
        self._socket_path: Path | None = None
        self._clients: set[asyncio.Task] = set()
        self._requester: Requester | None = None
        self._executor: ThreadPoolExecutor | None = None

    # --- serving -----------------------------------------------------------------------------

    async def start_unix(self, path: Path | None = None) -> str:
        """Listen at ``path`` (default ``<runtime dir>/channel.sock``); the address is the program's path of it.

        The socket is ours with mode 0600 until the backend hands the runtime
        directory to the run's own uid (``identity.give_to_program`` owns every
        entry in it), so only the program's identity can connect.
        """
        path = Path(path or Path(self.plan.runtime_dir) / CHANNEL_SOCKET)
        sock = _bind_unix(path)
        try:
            self._server = await asyncio.start_unix_server(self._client, sock=sock)
        except BaseException:
            sock.close()
            raise
        self._socket_path = path
        try:
            self.address = program_path(self.backend, self.plan, path)
        except ValueError:  # not in the run's directories: only our side reaches it
            self.address = str(path)
        return self.address

    async def start_tcp(self, bind: str = "0.0.0.0", port: int = 0, advertise: str | None = None) -> str:  # noqa: S104
        """Listen on TCP (Kubernetes): the address is ``tcp://<advertise>:<port>``, the first line must be the token."""
        self.token = secrets.token_urlsafe(32)
        self._server = await asyncio.start_server(self._client, bind, port)
        bound = self._server.sockets[0].getsockname()[1]
        self.address = f"tcp://{advertise or bind}:{bound}"
        return self.address

    async def close(self) -> None:
        """Stop listening, drop every connection, remove the socket."""
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            client.cancel()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=5)
            self._server = None
        if self._socket_path is not None:
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(self._socket_path.lstat().st_mode):
                    self._socket_path.unlink()
            self._socket_path = None
        if self._executor is not None:
            executor, self._executor = self._executor, None
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(executor, connections.close_all)
            executor.shutdown(wait=False)

    async def __aenter__(self) -> Channel:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            if len(self._clients) > MAX_CONNECTIONS:
                await self._send(writer, {"id": None, "error": f"Too many connections: at most {MAX_CONNECTIONS}."})
                return
            if self.token is not None and not await self._authenticated(reader):
                await self._send(writer, {"id": None, "error": "Invalid channel token."})
                return
            async for line in _lines(reader):
                if line is None:  # longer than the limit: answered, and skipped to its end
                    await self._send(
                        writer, {"id": None, "error": f"Request too large: at most {MAX_REQUEST_BYTES} bytes."}
                    )
                    continue
                if not line.strip():
                    continue
                self.requests += 1
                if self.requests > self.max_requests:
                    await self._send(
                        writer, {"id": None, "error": f"Too many requests: at most {self.max_requests} in a run."}
                    )
                    return
                await self._send(writer, await self.answer(line))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _authenticated(self, reader: asyncio.StreamReader) -> bool:
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), timeout=TOKEN_TIMEOUT)
            token = json.loads(line).get("token")
        except (TimeoutError, ValueError, AttributeError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return False
        assert self.token is not None
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self.token.encode())

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
        encoded = _line(reply)
        if len(encoded) > MAX_REPLY_BYTES:
            encoded = _line({"id": reply.get("id"), "error": "Reply too large: ask for fewer objects or fields."})
        writer.write(encoded)
        await writer.drain()

    # --- answering ---------------------------------------------------------------------------

    async def answer(self, line: bytes) -> dict[str, Any]:
        """The reply to one request line (never raises for anything the program sends)."""
        try:
            request = json.loads(line)
        except (ValueError, UnicodeDecodeError) as error:
            return {"id": None, "error": f"Malformed request: not a JSON object ({error})."}
        if not isinstance(request, dict):
            return {"id": None, "error": "Malformed request: not a JSON object."}
        request_id = request.get("id")
        if isinstance(request_id, dict | list):
            request_id = None
        command, args = request.get("command"), request.get("args", {})
        if not isinstance(command, str) or command not in HANDLERS:
            return {"id": request_id, "error": f"Unknown command {command!r}: use one of {', '.join(HANDLERS)}."}
        if not isinstance(args, dict):
            return {"id": request_id, "error": "Malformed request: args must be an object."}
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"channel-{self.plan.data_id}")
        try:
            result = await sync_to_async(self._handle, thread_sensitive=False, executor=self._executor)(command, args)
        except REQUEST_ERRORS as error:
            return {"id": request_id, "error": str(error) or type(error).__name__}
        except DatabaseError as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return {"id": request_id, "error": f"The database refused the request: {message}"}
        except Exception:  # noqa: BLE001 - a bug of ours must not end the program's run
            logger.exception("Channel command %s of Data %s failed", command, self.plan.data_id)
            return {"id": request_id, "error": f"Internal error while handling {command!r}."}
        return {"id": request_id, "result": result}

    def _handle(self, command: str, args: dict[str, Any]) -> Any:
        close_old_connections()  # a connection that broke while the program ran is replaced, not reused
        if self._requester is None:
            self._requester = Requester.of(self.plan.data_id, self._file_path)
        return HANDLERS[command](self._requester, args)

    def _file_path(self, data_id: int, path: str) -> str:
        return program_path(self.backend, self.plan, layout.data_dir(data_id) / path)


READ_CHUNK = 64 * 1024


async def _lines(reader: asyncio.StreamReader) -> AsyncIterator[bytes | None]:
    """The request lines of a connection; ``None`` for one over ``MAX_REQUEST_BYTES``, whose rest is skipped.

    Skipping to the end of a line that is too long keeps the connection in
    step: the program gets its error reply, and the next request is read whole.
    """
    buffer = bytearray()
    skipping = False
    while True:
        newline = buffer.find(b"\n")
        if newline >= 0:
            line = bytes(buffer[: newline + 1])
            del buffer[: newline + 1]
            if skipping:
                skipping = False
            elif len(line) > MAX_REQUEST_BYTES:
                yield None
            else:
                yield line
            continue
        if len(buffer) > MAX_REQUEST_BYTES:
            if not skipping:
                yield None
            skipping = True
            buffer.clear()
        chunk = await reader.read(READ_CHUNK)
        if not chunk:
            if buffer and not skipping:
                yield bytes(buffer)
            return
        buffer += chunk


def _bind_unix(path: Path) -> socket.socket:
    """A Unix stream socket bound at ``path`` with mode 0600, not yet listening."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if len(os.fsencode(path)) < UNIX_PATH_MAX:
            sock.bind(str(path))
        else:  # a deep runtime directory: bind through a short name of the directory
            directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                sock.bind(f"/proc/self/fd/{directory}/{path.name}")
            finally:
                os.close(directory)
        os.chmod(path, 0o600)
    except BaseException:
        sock.close()
        raise
    return sock
