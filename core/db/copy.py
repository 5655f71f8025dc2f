# ruff: noqa: S608  (table and column names come from the source database's own rows, checked below)
"""Copy tables from one database to another: moving an embedded SQLite journal to PostgreSQL.

Rows are inserted with ``ON CONFLICT DO NOTHING``, so running it twice, or after the new database has
started taking jobs, copies only what is missing and never overwrites.
"""

from __future__ import annotations

import re

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
