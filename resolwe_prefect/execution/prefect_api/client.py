"""Prefect clients that are cheap to make.

Every ``prefect.get_client()`` outside a client context builds a new TLS
context from the CA bundle, even for a plain ``http://`` API, at a cost in
CPU (docs/performance.md) that the API would pay for every submission and
the worker many times per flow run. The worker avoids it by running
inside one long-lived ``AsyncClientContext`` (every ``get_client()`` in its
event loop, Prefect's own included, then returns that client and its
keep-alive connections); code outside it builds its clients with the TLS
context made once here.
"""

from __future__ import annotations

import ssl
from functools import lru_cache
from typing import Any

from prefect.client.orchestration import SyncPrefectClient, get_client


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The TLS context Prefect's client would build, made once per process and honouring the same settings."""
    import certifi
    from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_TLS_INSECURE_SKIP_VERIFY

    if PREFECT_API_TLS_INSECURE_SKIP_VERIFY.value():
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=PREFECT_API_SSL_CERT_FILE.value() or certifi.where())


def httpx_settings() -> dict[str, Any]:
    """What to pass as ``get_client(httpx_settings=...)`` so that no TLS context is built per client."""
    return {"verify": tls_context()}


def sync_client() -> SyncPrefectClient:
    """A synchronous Prefect client (for threads outside any event loop), to be used as a context manager."""
    return get_client(sync_client=True, httpx_settings=httpx_settings())
