# ruff: noqa: S608  (table and column names come from the source database's own rows, checked below)
"""Copy tables from one database to another: moving an embedded SQLite journal to PostgreSQL.

Rows are inserted with ``ON CONFLICT DO NOTHING``, so running it twice, or after the new database has
started taking jobs, copies only what is missing and never overwrites. The result and input files of the
old data directory follow into the ``files`` table, so history, Retry and U1-U4 keep working.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from core.db.base import Database

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
BATCH = 500


async def copy_tables(source: Database, target: Database, tables: dict[str, str]) -> dict[str, int]:
    """Copy each ``table`` (ordered by its value, e.g. ``created_at``, so parents come first); counts copied."""
    copied: dict[str, int] = {}
    for table, order in tables.items():
        if not (_NAME.match(table) and _NAME.match(order)):
            raise ValueError(f"not a table or column name: {table}.{order}")
        if not await source.has_table(table):
            continue
        rows = await source.fetch_all(f"SELECT * FROM {table} ORDER BY {order}")
        if not rows:
            copied[table] = 0
            continue
        columns = [c for c in rows[0] if _NAME.match(c)]
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
               " ON CONFLICT DO NOTHING")
        before = await _count(target, table)
        for start in range(0, len(rows), BATCH):
            async with target.transaction() as tx:
                await tx.execute_many(sql, [tuple(r[c] for c in columns) for r in rows[start:start + BATCH]])
        copied[table] = await _count(target, table) - before
    return copied


async def _count(db: Database, table: str) -> int:
    row = await db.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
    return int(row["n"]) if row else 0


async def copy_files(data_dir: Path, url: str) -> dict[str, int]:
    """Copy the results and inputs kept under an embedded data directory into PostgreSQL; counts copied."""
    from core.jobs.storage import PostgresFiles, close_pool, open_pool

    pool = await open_pool(url)
    try:
        copied: dict[str, int] = {}
        for folder, label in (("results", "result files"), ("blobs", "input files")):
            files = PostgresFiles(pool, f"{folder}/", data_dir / "cache")
            copied[label] = await asyncio.to_thread(files.copy_directory, data_dir / folder)
        return copied
    finally:
        await close_pool(pool)
