"""The Secret model: Resolwe's ``resolwe.flow.models.secret`` with the value encrypted at rest.

The handle is the primary key, a random UUID: it is what a ``basic:secret``
input carries, and being unguessable it reveals nothing. Resolwe's column is
an encrypted field that decrypts on load; here the ciphertext is a plain
column (``encrypted_value``) and :attr:`Secret.value` decrypts on access, so
that loading a row (for ownership checks, listing, ``secret_exists``) never
fails just because the row was encrypted under an older SECRET_KEY.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import crypto


class SecretQuerySet(models.QuerySet):
    """Queries that know about ownership and expiry."""

    def active(self, now=None) -> SecretQuerySet:
        """Secrets that have not expired (``expires`` unset or in the future)."""
        now = now or timezone.now()
        return self.filter(Q(expires__isnull=True) | Q(expires__gt=now))

    def expired(self, now=None) -> SecretQuerySet:
        """Secrets whose expiry time has passed; :meth:`SecretManager.purge_expired` deletes them."""
        return self.filter(expires__lte=now or timezone.now())

    def owned_by(self, contributor) -> SecretQuerySet:
        """Secrets of ``contributor``; ownership is the only access rule, as in Resolwe (no superuser bypass)."""
        return self.filter(contributor=contributor)


class SecretManager(models.Manager.from_queryset(SecretQuerySet)):  # type: ignore[misc]
    """Resolwe's ``SecretManager``: ``create_secret`` and ``get_secret``."""

    def create_secret(self, value: str, contributor, metadata: dict | None = None, expires=None) -> str:
        """Store a new secret for ``contributor`` and return its handle as a string."""
        secret = self.create(value=value, contributor=contributor, metadata=metadata or {}, expires=expires)
        return str(secret.handle)

    def get_secret(self, handle: str | uuid.UUID, contributor) -> str:
        """Return the plaintext of ``contributor``'s secret ``handle``.

        Raises ``Secret.DoesNotExist`` when there is no such secret, it belongs to
        someone else or it has expired: the caller must not learn which.
        Unlike Resolwe, ``contributor=None`` does not mean "anybody": it finds nothing.
        """
        try:
            handle = uuid.UUID(str(handle))
        except ValueError:
            raise self.model.DoesNotExist(f"Secret {handle!r} does not exist.") from None
        if contributor is None:
            raise self.model.DoesNotExist(f"Secret {handle} does not exist.")
        return self.get_queryset().active().owned_by(contributor).get(handle=handle).value

    def purge_expired(self) -> int:
        """Delete expired secrets; returns how many went. Expired ones are unusable anyway."""
        deleted, _ = self.get_queryset().expired().delete()
        return deleted


class Secret(models.Model):
    """A value a process may read from ``/secrets/<handle>``; only its contributor can hand it to a process."""

    #: creation date and time
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    #: modification date and time
    modified = models.DateTimeField(auto_now=True, db_index=True)
    #: the owner: only Data objects this user contributes may use the secret
    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="secrets")
    #: the handle ``basic:secret`` inputs carry
    handle = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: Fernet token of the value (see :mod:`resolwe_prefect.secrets.crypto`); never the plaintext
    encrypted_value = models.TextField()
    #: free-form information about the secret (not encrypted: never put secrets here)
    metadata = models.JSONField(default=dict, blank=True)
    #: after this time the secret cannot be used; ``None`` means it never expires
    expires = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = SecretManager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        # Never the value: str() ends up in logs and admin pages.
        return f"Secret {self.handle} of {self.contributor_id}"

    @property
    def value(self) -> str:
        """The plaintext, decrypted on each access; raises ``crypto.DecryptionError`` after a key change."""
        return crypto.decrypt(self.encrypted_value)

    @value.setter
    def value(self, plaintext: Any) -> None:
        if not isinstance(plaintext, str):
            raise TypeError(f"A secret value must be a string, not {type(plaintext).__name__}.")
        self.encrypted_value = crypto.encrypt(plaintext)

    @property
    def is_expired(self) -> bool:
        """Whether the expiry time has passed."""
        return self.expires is not None and self.expires <= timezone.now()
