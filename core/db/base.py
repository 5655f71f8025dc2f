"""What the journal and the stores need from a SQL database, whichever one it is.

Statements are written once, in the SQL both SQLite and PostgreSQL accept, with ``?`` marks; each
implementation turns them into its driver's form. The few places the dialects really differ (JSON
fields, schema bookkeeping, the exclusive lock a quota check needs) are methods here, not ``if``s in
the callers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeGuard

Row = Mapping[str, Any]


class Conflict(Exception):
    """A row with the same unique key exists: another process (or a retried event) got there first."""

Params = Sequence[Any]


class Executor(Protocol):
    """Run statements: on their own (each committed) or inside one transaction."""

    async def execute(self, sql: str, params: Params = ()) -> int: ...
    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None: ...
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...


class Database(Executor, Protocol):
    dialect: str  # "sqlite" | "postgresql"

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    def transaction(self, *, exclusive: bool = False) -> AbstractAsyncContextManager[Executor]:
        """All or nothing; ``exclusive`` also serialises with every other exclusive transaction (quotas)."""
        ...
    async def write_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """An ``UPDATE … RETURNING``: the change and the changed rows in one round trip."""
        ...
    async def script(self, sql: str, *, unless_table: str | None = None) -> None:
        """Several statements without parameters (schema); skipped if ``unless_table`` exists once the schema
        lock is held, for a schema that cannot be applied twice and processes that start at once."""
        ...
    async def schema_version(self, name: str) -> int: ...
    async def set_schema_version(self, name: str, version: int) -> None: ...
    async def has_table(self, table: str) -> bool: ...
    def json_text(self, column: str, key: str) -> str:
        """An SQL expression for the text of ``column``'s top-level JSON ``key``."""
        ...


def is_postgres(url: str | None) -> TypeGuard[str]:
    """Whether the URL names a PostgreSQL database (the shared store when scaled out)."""
    return bool(url and url.startswith(("postgresql://", "postgres://")))


def open_database(url: str | None, sqlite_path: Path, *, max_connections: int = 10) -> Database:
    """PostgreSQL for a ``postgresql://`` URL (a pool of up to ``max_connections``), else the embedded SQLite
    file (not yet opened)."""
    if is_postgres(url):
        from core.db.postgres import PostgresDatabase

        return PostgresDatabase(url, max_size=max_connections)
    from core.db.sqlite import SqliteDatabase

    return SqliteDatabase(sqlite_path)


@asynccontextmanager
async def opened(url: str | None, sqlite_path: Path) -> AsyncIterator[Database]:
    """The database open for the length of a block (one-shot commands: usage, db upgrade)."""
    db = open_database(url, sqlite_path)
    await db.open()
    try:
        yield db
    finally:
        await db.close()
