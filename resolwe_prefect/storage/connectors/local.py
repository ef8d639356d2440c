"""A directory on a local (or network-mounted) disk: where every Data object is written first.

Keys are paths under the configured ``path``. The files are read in place (``local_path``) and
can be mounted into a process's container; the hashes are computed from the file itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from resolwe_prefect.storage.connectors.base import ConnectorError, StorageConnector, key_prefix, validate_key
from resolwe_prefect.storage.hashing import compute_hashes

ERRORS = (OSError,)


class LocalFilesystemConnector(StorageConnector):
    """Resolwe's ``LocalFilesystemConnector``: config ``{"path": "/data", "priority": 0}``."""

    REQUIRED_CONFIG = ("path",)

    def __init__(self, config: dict, name: str):
        super().__init__(config, name)
        self.base_path = Path(self.config["path"])

    @property
    def mountable(self) -> bool:
        return True

    def local_path(self, key: str) -> Path:
        return self.base_path / validate_key(key)

    def _errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        return self._failing(action, ERRORS)

    def push(self, source: Path, key: str) -> None:
        """Copy ``source`` to the key's path through a temporary file, so a reader never sees half a file."""
        target = self.local_path(key)
        with self._errors(f"store {key}"):
            if target.exists() and os.path.samefile(source, target):
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            os.close(descriptor)
            try:
                shutil.copyfile(source, temporary)
                shutil.copymode(source, temporary)
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise

    def get(self, key: str, destination: Path) -> None:
        source = self.local_path(key)
        with self._errors(f"read {key}"):
            if not source.is_file():
                raise ConnectorError(f"Storage connector {self.name!r}: {key} does not exist.")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)

    def open_stream(self, key: str) -> BinaryIO:
        path = self.local_path(key)
        with self._errors(f"read {key}"):
            if not path.is_file():
                raise ConnectorError(f"Storage connector {self.name!r}: {key} does not exist.")
            return path.open("rb")

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        """Every file (links included, directories not) under ``prefix/``, as keys."""
        start = key_prefix(prefix)
        root = self.base_path / start if start else self.base_path
        keys: list[str] = []
        with self._errors(f"list {start or 'the store'}"):
            for directory, _subdirectories, files in os.walk(root, onerror=_raise):
                relative = Path(directory).relative_to(self.base_path)
                keys.extend((relative / name).as_posix() for name in files)
        return sorted(keys)

    def delete(self, keys: list[str]) -> None:
        """Remove the files, then the directories they leave empty, up to the key's first component.

        The connector's own ``path`` stays; an emptied Data directory (``123/``) goes, as in Resolwe.
        """
        for key in keys:
            path = self.local_path(key)
            with self._errors(f"delete {key}"):
                with contextlib.suppress(FileNotFoundError):
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
                self._prune(path.parent)

    def _prune(self, directory: Path) -> None:
        while directory != self.base_path and self.base_path in directory.parents:
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError:  # not empty (or not ours to remove): what is above is not empty either
                return
            directory = directory.parent

    def get_hashes(self, key: str) -> dict[str, str]:
        path = self.local_path(key)
        with self._errors(f"hash {key}"):
            if not path.is_file():
                raise ConnectorError(f"Storage connector {self.name!r}: {key} does not exist.")
            return compute_hashes(path, self.CHUNK_SIZE)

    def presigned_url(self, key: str, expiration: int = 600, force_download: bool = False) -> str | None:
        """``None``: local files are served by the application itself, not by a signed URL."""
        validate_key(key)
        return None

    def check(self) -> None:
        if not self.base_path.is_dir():
            raise ConnectorError(f"Storage connector {self.name!r}: {self.base_path} is not a directory.")
        if not os.access(self.base_path, os.W_OK | os.X_OK):
            raise ConnectorError(f"Storage connector {self.name!r}: {self.base_path} is not writable.")


def _raise(error: OSError) -> None:
    """``os.walk`` skips unreadable directories silently; a missing prefix is fine, the rest is not."""
    if isinstance(error, FileNotFoundError):
        return
    raise error
