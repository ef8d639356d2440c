"""The embedded Prefect server: ``prefect server start``, with SQLite writes that wait their turn.

    python -m resolwe_prefect.cli.prefect_server server start --host 127.0.0.1 --port 4200

On SQLite, Prefect opens its write transactions ``DEFERRED`` unless the caller
asks for a row lock. Creating a flow run reads the deployment and the flow
before it inserts, so when another write (a state, the task-run recorder's
batch, the event persister) holds the database, SQLite cannot upgrade that
read to a write and answers ``database is locked`` at once: it does not wait
``busy_timeout``, because waiting could deadlock. The server turns that into a
503 and Prefect's client retries after about 2 s, once for most flow runs on a
busy laptop (the figures are in docs/performance.md). Django's own SQLite settings open every
transaction ``IMMEDIATE`` for the same reason; here the same is done for the
Prefect server's write transactions, which then queue on the lock instead of
failing. Read-only sessions are not transactions and stay concurrent, and
PostgreSQL is not affected.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


def immediate_sqlite_writes() -> None:
    """Make every write transaction of Prefect's SQLite configuration take the write lock at ``BEGIN``.

    Idempotent; only ``AioSqliteConfiguration`` changes, so a server on
    PostgreSQL behaves exactly as Prefect ships it.
    """
    from resolwe_prefect.execution.prefect_api.internals import internal

    sqlite = internal("AioSqliteConfiguration")
    if getattr(sqlite.begin_transaction, "_resolwe_immediate", False):
        return
    original = sqlite.begin_transaction

    @asynccontextmanager
    async def begin_transaction(self: Any, session: Any, with_for_update: bool = False) -> AsyncIterator[Any]:
        async with original(self, session, with_for_update=True) as transaction:
            yield transaction

    begin_transaction._resolwe_immediate = True  # type: ignore[attr-defined]
    sqlite.begin_transaction = begin_transaction


def main() -> None:
    """Run Prefect's CLI (``server start`` and its arguments) in this process, with the patch applied.

    ``RESOLWE_PREFECT_SQLITE_IMMEDIATE_WRITES=0`` runs Prefect unchanged: an
    escape hatch should a Prefect release change its SQLite transactions,
    and the baseline the benchmarks compare against.
    """
    if os.environ.get("RESOLWE_PREFECT_SQLITE_IMMEDIATE_WRITES", "1").lower() not in ("0", "false", "no"):
        immediate_sqlite_writes()
    from prefect.cli import app

    app()


if __name__ == "__main__":
    main()
