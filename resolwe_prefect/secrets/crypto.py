"""Encryption of secret values at rest.

Resolwe stores secrets in a ``fernet_fields.EncryptedTextField`` whose key is
derived from ``settings.SECRET_KEY``; this module does the same with
``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256, authenticated), so a
database dump alone does not reveal any secret.

The Fernet key is derived with HKDF-SHA256 from ``SECRET_KEY``. HKDF (not a
slow password hash such as PBKDF2) is the right tool because ``SECRET_KEY``
is already a high-entropy key, and derivation happens on every run that
reads secrets. A fixed, purpose-specific ``info`` keeps this key independent
of every other use of ``SECRET_KEY`` (sessions, signing).

**Rotating SECRET_KEY invalidates stored secrets**: values encrypted under
the old key can no longer be decrypted and runs that use them fail with
:class:`DecryptionError`. To rotate without losing them, put the old key in
Django's ``SECRET_KEY_FALLBACKS``: values are always *encrypted* with the
key from ``SECRET_KEY`` but *decrypted* with any of the keys (a
``MultiFernet``), and :func:`reencrypt` moves a value to the current key.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

#: Binds derived keys to this purpose; changing it invalidates every stored secret.
HKDF_INFO = b"resolwe-prefect secrets: Fernet key v1"
#: A constant salt is fine for HKDF with a high-entropy input key; it only separates domains.
HKDF_SALT = b"resolwe_prefect.secrets"


class DecryptionError(Exception):
    """A stored value cannot be decrypted: it was encrypted under another SECRET_KEY or was altered."""


def derive_key(secret_key: str | bytes) -> bytes:
    """Derive a urlsafe-base64 Fernet key (32 bytes of key material) from a Django SECRET_KEY."""
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(material)
    return base64.urlsafe_b64encode(raw)


@functools.lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    """Build (and cache, since HKDF runs per key) the cipher for one set of keys; the first encrypts."""
    return MultiFernet([Fernet(derive_key(key)) for key in keys])


def _fernet() -> MultiFernet:
    """The cipher for the current settings, read every time so that ``override_settings`` works."""
    fallbacks = tuple(str(key) for key in (getattr(settings, "SECRET_KEY_FALLBACKS", None) or ()))
    return _fernet_for((str(settings.SECRET_KEY), *fallbacks))


def encrypt(value: str) -> str:
    """Encrypt ``value`` with the key from SECRET_KEY; the token is ASCII, so it fits a text column."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a token made by :func:`encrypt` with SECRET_KEY or any of SECRET_KEY_FALLBACKS."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as error:
        raise DecryptionError(
            "The secret cannot be decrypted; it was probably stored under a different SECRET_KEY."
        ) from error


def reencrypt(token: str) -> str:
    """Re-encrypt a token under the current SECRET_KEY (after a rotation with SECRET_KEY_FALLBACKS)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as error:
        raise DecryptionError("The secret cannot be decrypted with any configured key.") from error
