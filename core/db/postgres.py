"""The shared store when Studiobot is scaled out: PostgreSQL through a psycopg 3 connection pool.

Statements arrive with SQLite's ``?`` marks and are turned into psycopg's ``%s`` (a literal ``%`` is
doubled first). Each statement outside a transaction runs on a pooled connection and commits at once;
an exclusive transaction also takes one advisory lock, so two front ends cannot both let the last
request of a quota window through.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache

from psycopg import AsyncConnection, errors
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from core.db.base import Conflict, Executor, Params, Row

EXCLUSIVE_LOCK = 0x5354_5544  # "STUD": the advisory lock of exclusive transactions
_MARK = re.compile(r"\?")


@lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    return _MARK.sub("%s", sql.replace("%", "%%"))


class PgExecutor:
    """Statements on one connection (inside a transaction, if one is open on it)."""

    def __init__(self, conn: AsyncConnection[dict[str, object]]) -> None:
        self._conn = conn

    @property
    def connection(self) -> AsyncConnection[dict[str, object]]:
        """The psycopg connection, for a library that must write in the same transaction (the job queue)."""
        return self._conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            cursor = await self._conn.execute(to_psycopg(sql), tuple(params))
        except errors.UniqueViolation as exc:
            raise Conflict(str(exc)) from exc
        return max(cursor.rowcount, 0)

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._conn.cursor() as cursor:
            await cursor.executemany(to_psycopg(sql), [tuple(r) for r in rows])

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        cursor = await self._conn.execute(to_psycopg(sql), tuple(params))
        return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        cursor = await self._conn.execute(to_psycopg(sql), tuple(params))
        return await cursor.fetchone()


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self._pool: AsyncConnectionPool[AsyncConnection[dict[str, object]]] | None = None
        self._sizes = (min_size, max_size)

    async def open(self) -> None:
        pool: AsyncConnectionPool[AsyncConnection[dict[str, object]]] = AsyncConnectionPool(
            self.url, min_size=self._sizes[0], max_size=self._sizes[1], open=False,
            kwargs={"row_factory": dict_row, "autocommit": True}, name="studiobot",
        )
        await pool.open(wait=True, timeout=30)
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> AsyncConnectionPool[AsyncConnection[dict[str, object]]]:
        if self._pool is None:
            raise RuntimeError("the database is not open")
        return self._pool

    @asynccontextmanager
    async def transaction(self, *, exclusive: bool = False) -> AsyncIterator[Executor]:
        async with self.pool.connection() as conn, conn.transaction():
            if exclusive:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (EXCLUSIVE_LOCK,))
            yield PgExecutor(conn)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.pool.connection() as conn:
            return await PgExecutor(conn).execute(sql, params)

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.execute_many(sql, rows)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.pool.connection() as conn:
            return await PgExecutor(conn).fetch_all(sql, params)

    async def write_returning(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        async with self.pool.connection() as conn:
            return await PgExecutor(conn).fetch_one(sql, params)

    async def script(self, sql: str, *, unless_table: str | None = None) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            # Schema changes from several processes starting at once queue up behind one lock.
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (EXCLUSIVE_LOCK,))
            # pg_tables, not to_regclass: the backend's catalog cache may still hold "absent" from before the lock.
            if unless_table is not None and await PgExecutor(conn).fetch_one(
                    "SELECT 1 AS found FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?",
                    (unless_table,)):
                return  # another process applied it while this one waited for the lock
            await conn.execute(sql)  # no parameters: several statements in one go

    async def schema_version(self, name: str) -> int:
        await self._ensure_versions()
        row = await self.fetch_one("SELECT version FROM schema_versions WHERE name = ?", (name,))
        return 0 if row is None else int(row["version"])

    async def set_schema_version(self, name: str, version: int) -> None:
        await self._ensure_versions()
        await self.execute("INSERT INTO schema_versions (name, version) VALUES (?, ?)"
                           " ON CONFLICT (name) DO UPDATE SET version = excluded.version", (name, version))

    async def _ensure_versions(self) -> None:
        # Under the schema lock: CREATE … IF NOT EXISTS from processes starting at once can still collide.
        if not await self.has_table("schema_versions"):
            await self.script("CREATE TABLE schema_versions (name TEXT PRIMARY KEY, version INTEGER)",
                              unless_table="schema_versions")

    async def has_table(self, table: str) -> bool:
        row = await self.fetch_one("SELECT to_regclass(?) IS NOT NULL AS found", (table,))
        return bool(row and row["found"])

    def json_text(self, column: str, key: str) -> str:
        return f"({column}::jsonb ->> '{key}')"
