"""What the rest of resolwe-prefect uses of secrets: create, check, resolve for a run, write files.

The rules are Resolwe's (``Data.resolve_secrets`` and the executor's secrets
directory):

* a secret can be used only by Data objects whose contributor owns it;
* every handle is resolved first — a handle that does not exist, is not the
  contributor's or has expired fails with "Access to secret not allowed or
  secret does not exist" (one message for all three, so that nobody can probe
  for other users' handles);
* then, if there are secrets, the process must declare
  ``requirements.resources.secrets: true``, otherwise "Process '<slug>' has
  secret inputs, but no permission to see secrets";
* the program reads each value from the file ``/secrets/<handle>``; the
  directory is not listable (mode 0300) and the files are 0600.

Resolwe reports both failures in ``Data.process_error`` as
``"Permission denied for process: <reason>"``; ``str(SecretAccessError)``
is exactly that, so callers append ``str(error)`` as it is.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils import timezone

from resolwe_prefect.schema.walk import Schema, iterate_fields

from . import crypto

#: Resolwe's message for a handle the contributor may not use (missing, foreign or expired).
NOT_ALLOWED_MESSAGE = "Access to secret not allowed or secret does not exist"
#: Resolwe's message for a process without ``requirements.resources.secrets: true``.
NO_PERMISSION_MESSAGE = "Process '{slug}' has secret inputs, but no permission to see secrets"
#: The prefix Resolwe's dispatcher puts before a ``PermissionDenied`` in ``process_error``.
PROCESS_ERROR_PREFIX = "Permission denied for process: "

#: Where programs find the values; the execution backend mounts or maps the secrets directory here.
SECRETS_MOUNT = "/secrets"
#: Resolwe's modes: the directory can be entered and written but not listed, the files are owner-only.
SECRETS_DIR_MODE = 0o300
SECRET_FILE_MODE = 0o600


class SecretAccessError(Exception):
    """A run may not have (or cannot get) the secrets its inputs name.

    ``reason`` is Resolwe's bare message; ``str()`` adds Resolwe's
    "Permission denied for process: " prefix, giving the exact text Resolwe
    puts into ``Data.process_error``. ``handle`` is the offending handle, when
    there is a single one.
    """

    def __init__(self, reason: str, *, handle: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.handle = handle

    def __str__(self) -> str:
        return PROCESS_ERROR_PREFIX + self.reason


def _secret_kind(type_: Any) -> str | None:
    """``"single"`` for ``basic:secret:``, ``"list"`` for ``list:basic:secret:``, else ``None``.

    Types are compared with a trailing colon, like Resolwe's ``startswith('basic:secret:')``,
    so both normalized and raw YAML spellings (``basic:secret``) are recognized.
    """
    if not isinstance(type_, str):
        return None
    normalized = type_ if type_.endswith(":") else type_ + ":"
    if normalized.startswith("basic:secret:"):
        return "single"
    if normalized.startswith("list:basic:secret:"):
        return "list"
    return None


def _handle_of(value: Any) -> str | None:
    """The handle of one ``{"handle": ...}`` value; anything else is skipped, as Resolwe does."""
    if isinstance(value, Mapping) and value.get("handle") not in (None, ""):
        return str(value["handle"])
    return None


def iter_secret_handles(input_schema: Schema | None, input_values: Mapping[str, Any] | None) -> Iterator[str]:
    """Yield the handle of every ``basic:secret``/``list:basic:secret`` value, descending into groups."""
    for visit in iterate_fields(input_values, input_schema):
        kind = _secret_kind(visit.field.get("type"))
        value = visit.value
        items = value if kind == "list" and isinstance(value, list) else [value] if kind == "single" else []
        for item in items:
            handle = _handle_of(item)
            if handle is not None:
                yield handle


def secret_handles(input_schema: Schema | None, input_values: Mapping[str, Any] | None) -> list[str]:
    """The distinct secret handles of an input, in schema order."""
    return list(dict.fromkeys(iter_secret_handles(input_schema, input_values)))


def _parse_handle(handle: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(handle))
    except ValueError:
        return None


def create_secret(value: str, owner, *, metadata: dict | None = None, expires: datetime | None = None) -> str:
    """Store ``value`` encrypted for ``owner`` and return the new handle (a UUID string).

    ``expires`` must be timezone-aware (the project runs with ``USE_TZ``); a
    naive time would be read in an arbitrary zone and expire at the wrong moment.
    """
    from .models import Secret

    if not isinstance(value, str):
        raise TypeError(f"A secret value must be a string, not {type(value).__name__}.")
    if owner is None or getattr(owner, "pk", None) is None:
        raise ValueError("A secret needs a saved owner.")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError("Secret metadata must be a dictionary.")
    if expires is not None and timezone.is_naive(expires):
        raise ValueError("The expiry time must be timezone-aware.")
    return Secret.objects.create_secret(value, owner, metadata=metadata, expires=expires)


def secret_exists(handle: str, owner) -> bool:
    """Whether ``owner`` has a usable (existing, not expired) secret ``handle``; for input validation."""
    from .models import Secret

    parsed = _parse_handle(handle)
    if parsed is None or owner is None or getattr(owner, "pk", None) is None:
        return False
    return Secret.objects.active().owned_by(owner).filter(handle=parsed).exists()


def secrets_for_run(
    *,
    process_slug: str,
    process_requirements: Mapping[str, Any] | None,
    input_schema: list[dict],
    input_values: Mapping[str, Any],
    contributor,
) -> dict[str, str]:
    """Resolve a run's secret inputs to ``{handle: plaintext}`` for its ``/secrets/<handle>`` files.

    Mirrors Resolwe's ``Data.resolve_secrets``: handles are checked against
    the contributor first, then the process's permission. Returns ``{}`` when
    the inputs hold no secrets, whatever the process declares.
    Raises :class:`SecretAccessError`.
    """
    from .models import Secret

    handles = secret_handles(input_schema, input_values)
    if not handles:
        return {}

    owned: dict[str, Secret] = {}
    parsed = {handle: _parse_handle(handle) for handle in handles}
    if contributor is not None and getattr(contributor, "pk", None) is not None:
        valid = [h for h in parsed.values() if h is not None]
        owned = {str(s.handle): s for s in Secret.objects.active().owned_by(contributor).filter(handle__in=valid)}
    for handle in handles:
        if parsed[handle] is None or str(parsed[handle]) not in owned:
            raise SecretAccessError(NOT_ALLOWED_MESSAGE, handle=handle)

    resources = (process_requirements or {}).get("resources") or {}
    if resources.get("secrets", False) is not True:
        raise SecretAccessError(NO_PERMISSION_MESSAGE.format(slug=process_slug))

    values: dict[str, str] = {}
    for handle in handles:
        try:
            # Keyed by the handle as the input spells it: that is what the template renders.
            values[handle] = owned[str(parsed[handle])].value
        except crypto.DecryptionError:
            raise SecretAccessError(
                "Secret cannot be decrypted (the server's SECRET_KEY has changed since it was stored)",
                handle=handle,
            ) from None
    return values


def write_secret_files(secrets: Mapping[str, str], directory: Path | str) -> Path:
    """Write each value to ``directory/<handle>`` the way Resolwe's dispatcher does.

    The directory ends up 0300 (enter and write, no listing: a program can
    read a handle it was given but cannot discover others) and each file
    0600, created with ``O_EXCL`` so an existing file or symlink is never
    followed. The backend makes the directory visible as ``/secrets``.
    Call :func:`remove_secret_files` when the program has finished.
    """
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=False)
    try:
        for handle, value in secrets.items():
            if not handle or "/" in handle or handle in (".", ".."):
                raise ValueError(f"Invalid secret handle {handle!r}.")
            descriptor = os.open(directory / handle, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle_file:
                handle_file.write(value)
        os.chmod(directory, SECRETS_DIR_MODE)
    except BaseException:
        remove_secret_files(directory)
        raise
    return directory


def remove_secret_files(directory: Path | str) -> None:
    """Delete a secrets directory made by :func:`write_secret_files` (it is not listable until re-opened)."""
    directory = Path(directory)
    if not directory.exists():
        return
    os.chmod(directory, 0o700)
    shutil.rmtree(directory, ignore_errors=True)
