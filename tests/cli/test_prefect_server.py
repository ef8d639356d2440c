"""The embedded Prefect server's SQLite write transactions take the database's write lock at BEGIN.

Runs Prefect's own SQLite configuration against a file in a temporary
directory: a transaction opened the way Prefect opens its writes must
already hold the write lock after a read, so a second writer waits for it
instead of failing with 'database is locked' halfway through.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from resolwe_prefect.cli import prefect_server


def _other_writer_is_locked_out(path: Path) -> bool:
    """Whether a second connection cannot take the write lock right now (no waiting)."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    else:
        connection.execute("ROLLBACK")
        return False
    finally:
        connection.close()


async def _write_lock_held_after_a_read(path: Path) -> bool:
    """Open a transaction as Prefect opens its writes (no row lock asked for), read, and look at the lock."""
    from prefect.server.database.configurations import ENGINES, AioSqliteConfiguration

    config = AioSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{path}")
    engine = await config.engine()
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        session = await config.session(engine)
        async with session:
            async with config.begin_transaction(session):
                await session.execute(sa.text("SELECT count(*) FROM t"))
                held = await asyncio.to_thread(_other_writer_is_locked_out, path)
                await session.execute(sa.text("INSERT INTO t VALUES (1)"))
        return held
    finally:
        await engine.dispose()
        for key in [key for key, value in ENGINES.items() if value is engine]:
            ENGINES.pop(key)


@pytest.fixture
def restore_prefect_sqlite_configuration():
    from prefect.server.database.configurations import AioSqliteConfiguration

    original = AioSqliteConfiguration.begin_transaction
    yield
    AioSqliteConfiguration.begin_transaction = original


def test_prefect_alone_defers_the_write_lock(tmp_path, restore_prefect_sqlite_configuration):
    """The baseline the patch exists for: Prefect's deferred transaction holds no write lock after its read."""
    assert asyncio.run(_write_lock_held_after_a_read(tmp_path / "prefect.db")) is False


def test_patched_server_takes_the_write_lock_at_begin(tmp_path, restore_prefect_sqlite_configuration):
    prefect_server.immediate_sqlite_writes()
    prefect_server.immediate_sqlite_writes()  # idempotent: not wrapped twice
    assert asyncio.run(_write_lock_held_after_a_read(tmp_path / "prefect.db")) is True


def test_postgresql_configuration_is_untouched(restore_prefect_sqlite_configuration):
    from prefect.server.database.configurations import AsyncPostgresConfiguration

    before = AsyncPostgresConfiguration.begin_transaction
    prefect_server.immediate_sqlite_writes()
    assert AsyncPostgresConfiguration.begin_transaction is before
