"""The interface every storage connector implements, and what connectors share.

A connector stores files under keys (``"123/dir/f.txt"``: posix, relative, the Data object's
id first) on one store: a local directory, an S3 bucket or a GCS bucket. Every failure of the
store (unreachable, a missing object, refused credentials) is a :class:`ConnectorError`, so
callers copying between stores handle one exception whatever the store.
"""

from __future__ import annotations

import abc
import contextlib
import io
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, ClassVar, Generic, TypeVar
from urllib.parse import quote

from resolwe_prefect.storage.hashing import CHUNK_SIZE

logger = logging.getLogger(__name__)

Client = TypeVar("Client")


class ConnectorError(Exception):
    """An operation on the storage failed (unreachable, missing object, ...)."""


class ConnectorConfigError(ValueError):
    """A connector's configuration is unusable (an unknown class, a required key missing)."""


def validate_key(key: str) -> str:
    """``key`` itself when it is a relative posix path that stays under the connector's root.

    Keys come from the database; one with ``..`` or a leading ``/`` would reach outside the
    local data directory, so it is refused before any store sees it.
    """
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or key.endswith("/"):
        raise ValueError(f"Invalid storage key {key!r}: a relative posix path to a file is required.")
    return key


def key_prefix(prefix: str) -> str:
    """``"123/"`` for ``"123"`` (or ``"123/"``); ``""`` for the whole store."""
    stripped = prefix.strip("/")
    if ".." in PurePosixPath(stripped).parts:
        raise ValueError(f"Invalid storage prefix {prefix!r}.")
    return f"{stripped}/" if stripped else ""


def attachment_disposition(key: str) -> str:
    """A ``Content-Disposition`` that makes browsers save the object under its file name.

    The quoted ``filename`` is an ASCII fallback; ``filename*`` (RFC 6266) carries any name.
    """
    name = PurePosixPath(key).name
    fallback = "".join(char if char.isascii() and char not in '"\\' and char.isprintable() else "_" for char in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class StorageConnector(abc.ABC):
    """One configured store of Data files, built from Resolwe's ``STORAGE_CONNECTORS`` entry."""

    CHUNK_SIZE: int = CHUNK_SIZE
    #: Keys the ``config`` must have; a missing one is a :class:`ConnectorConfigError`.
    REQUIRED_CONFIG: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: dict, name: str):
        missing = [key for key in self.REQUIRED_CONFIG if config.get(key) in (None, "")]
        if missing:
            raise ConnectorConfigError(f"Storage connector {name!r}: config key {missing[0]!r} is required.")
        self.config = dict(config)
        self.name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @property
    def priority(self) -> int:
        """Lower is preferred when reading a file that several connectors hold (Resolwe's default 100)."""
        return int(self.config.get("priority", 100))

    @property
    def mountable(self) -> bool:
        """Whether the files are on a local path that can be mounted into a process's container."""
        return False

    def local_path(self, key: str) -> Path | None:
        """The local file of ``key`` when the store is a local disk (read it in place); else ``None``."""
        return None

    @abc.abstractmethod
    def push(self, source: Path, key: str) -> None:
        """Store the local file ``source`` under ``key``, replacing what is there."""

    @abc.abstractmethod
    def get(self, key: str, destination: Path) -> None:
        """Write the object ``key`` to the local file ``destination`` (its directories are created)."""

    @abc.abstractmethod
    def open_stream(self, key: str) -> BinaryIO:
        """A readable binary stream of the object ``key``; the caller closes it."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether the object ``key`` exists."""

    @abc.abstractmethod
    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix/`` (full keys, sorted)."""

    @abc.abstractmethod
    def delete(self, keys: list[str]) -> None:
        """Delete the objects ``keys``; keys that do not exist are skipped."""

    @abc.abstractmethod
    def get_hashes(self, key: str) -> dict[str, str]:
        """The hashes of ``key`` as the store itself reports them (names as in ``hashing``)."""

    @abc.abstractmethod
    def presigned_url(self, key: str, expiration: int = 600, force_download: bool = False) -> str | None:
        """A URL that serves ``key`` without further credentials for ``expiration`` seconds, or ``None``."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise :class:`ConnectorError` when the store cannot be reached."""

    @contextlib.contextmanager
    def _failing(self, action: str, errors: tuple[type[BaseException], ...]) -> Iterator[None]:
        """Turn the store's own exceptions into :class:`ConnectorError` naming the connector and action."""
        try:
            yield
        except ConnectorError:
            raise
        except errors as error:
            raise ConnectorError(f"Storage connector {self.name!r} could not {action}: {error}") from error


class LazyClient(Generic[Client]):
    """A client made on first use, once per connector, even when threads ask at the same time.

    Creating a client reads credentials (files, Prefect blocks) and imports SDKs; a connector
    that is configured but never used costs nothing, and a failure to create the client is a
    :class:`ConnectorError` at the first operation rather than at start-up.
    """

    def __init__(self, factory: Callable[[], Client], describe: str):
        self._factory = factory
        self._describe = describe
        self._client: Client | None = None
        self._lock = threading.Lock()

    def get(self) -> Client:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._factory()
                except ConnectorError:
                    raise
                except Exception as error:  # noqa: BLE001 - bad credentials, a missing block or file
                    raise ConnectorError(f"Cannot create the client of {self._describe}: {error}") from error
            return self._client


class ErrorTranslatingStream(io.RawIOBase):
    """A store's download stream whose read failures are :class:`ConnectorError` too."""

    def __init__(self, inner: Any, translate: Callable[[], contextlib.AbstractContextManager[None]]):
        super().__init__()
        self._inner = inner
        self._translate = translate

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with self._translate():
            data = self._inner.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._inner.close()
        super().close()


def buffered(inner: Any, translate: Callable[[], contextlib.AbstractContextManager[None]]) -> BinaryIO:
    """``inner`` (anything with ``read(n)``) as a buffered binary stream raising :class:`ConnectorError`."""
    return io.BufferedReader(ErrorTranslatingStream(inner, translate), buffer_size=1024 * 1024)
