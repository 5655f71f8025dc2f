"""The embedded store: one aiosqlite connection in WAL mode, shared by the journal and the community tables.

Writes and transactions share one lock, because on a single connection a statement issued while
another coroutine's transaction is open would silently join it. Reads go straight through: WAL lets
them run beside the writer, and other processes share the file under ``busy_timeout``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from core.db.base import Conflict, Executor, Params, Row


class _Tx:
    """Statements inside an open transaction: no commit of their own."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            cursor = await self._db.execute(sql, tuple(params))
        except sqlite3.IntegrityError as exc:
            if str(exc).startswith("UNIQUE"):
                raise Conflict(str(exc)) from exc
            raise
        return int(cursor.rowcount)

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        await self._db.executemany(sql, [tuple(r) for r in rows])

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        # One trip to aiosqlite's thread (execute, fetch and close there), not three.
        return [dict(r) for r in await self._db.execute_fetchall(sql, tuple(params))]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, timeout=15, isolation_level=None)  # explicit transactions
        db.row_factory = aiosqlite.Row
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=15000")  # other processes may share the data dir
        except BaseException:
            await db.close()  # its worker thread would otherwise keep the process from exiting
            raise
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the database is not open")
        return self._db

    @asynccontextmanager
    async def transaction(self, *, exclusive: bool = False) -> AsyncIterator[Executor]:
        # BEGIN IMMEDIATE takes SQLite's one write lock up front: every transaction here is exclusive.
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._lock:
            return await _Tx(self._conn).execute(sql, params)

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.execute_many(sql, rows)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return await _Tx(self._conn).fetch_all(sql, params)

    async def write_returning(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._lock:
            return await _Tx(self._conn).fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return await _Tx(self._conn).fetch_one(sql, params)

    async def script(self, sql: str, *, unless_table: str | None = None) -> None:
        async with self._lock:
            if unless_table is not None and await _Tx(self._conn).fetch_one(
                    "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", (unless_table,)):
                return
            await self._conn.executescript(sql)

    async def schema_version(self, name: str) -> int:
        await self._ensure_versions()
        row = await self.fetch_one("SELECT version FROM schema_versions WHERE name = ?", (name,))
        if row is not None:
            return int(row["version"])
        legacy = await self.fetch_one("PRAGMA user_version")  # the journal kept its version here before
        return int(legacy["user_version"]) if legacy and name == "journal" else 0

    async def set_schema_version(self, name: str, version: int) -> None:
        await self._ensure_versions()
        await self.execute("INSERT INTO schema_versions (name, version) VALUES (?, ?)"
                           " ON CONFLICT (name) DO UPDATE SET version = excluded.version", (name, version))
        if name == "journal":
            await self.execute(f"PRAGMA user_version={int(version)}")

    async def _ensure_versions(self) -> None:
        await self.execute("CREATE TABLE IF NOT EXISTS schema_versions (name TEXT PRIMARY KEY, version INTEGER)")

    async def has_table(self, table: str) -> bool:
        row = await self.fetch_one("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return row is not None

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"
