"""Where community data lives: two tables beside ``jobs`` in the journal database.

``CommunityStore`` is the interface; ``SqlCommunityStore`` keeps it in the journal's database (``core.db``:
SQLite embedded, PostgreSQL when scaled out) with SQL both accept. Quota checks and the ledger insert happen
in one exclusive transaction (SQLite's ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so two processes
cannot both take the last request of a window.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.db import Database, Executor, Row

TABLES = """
CREATE TABLE IF NOT EXISTS server_settings (
    platform   TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (platform, workspace)
);
CREATE TABLE IF NOT EXISTS usage (
    job_id        TEXT PRIMARY KEY,
    platform      TEXT NOT NULL,
    workspace     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    units         INTEGER NOT NULL DEFAULT 1,
    created_at    DOUBLE PRECISION NOT NULL,
    model         TEXT,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS usage_by_user ON usage(platform, user_id, created_at);
CREATE INDEX IF NOT EXISTS usage_by_server ON usage(platform, workspace, created_at);
CREATE INDEX IF NOT EXISTS usage_by_time ON usage(created_at);
"""
NO_LIMIT = 2**62  # LIMIT takes a number in both dialects
GROUPS = ("platform", "workspace", "user_id", "kind")  # what usage may be grouped and filtered by


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One accepted request: counted at once, its cost filled in when the provider answered."""

    job_id: str
    platform: str
    workspace: str
    user_id: str
    kind: str
    created_at: float
    units: int = 1  # generations it makes: a 4-image grid counts 4


@dataclass(frozen=True, slots=True)
class Window:
    """A limit to check before accepting: ``scope`` user or server, ``measure`` requests or cost."""

    name: str
    scope: str  # "user" | "server"
    measure: str  # "requests" | "cost"
    limit: float
    since: float
    slides: bool = False  # a sliding window (per minute): the refusal needs the requests' times


@dataclass(frozen=True, slots=True)
class Breach:
    window: Window
    used: float
    oldest: tuple[float, ...]  # created_at of each generation in the window, oldest first (request windows)
    wanted: int = 1


@dataclass(frozen=True, slots=True)
class UsageLine:
    key: dict[str, str]
    requests: int
    cost_usd: float
    input_tokens: int
    output_tokens: int
    units: int = 0  # generations (what request limits count)


class CommunityStore(Protocol):
    async def upgrade(self) -> None: ...
    async def get_settings(self, platform: str, workspace: str) -> str | None: ...
    async def put_settings(self, platform: str, workspace: str, data: str) -> None: ...
    async def admit(self, row: LedgerRow, windows: Sequence[Window]) -> Breach | None: ...
    async def forget_request(self, job_id: str) -> None: ...
    async def record_cost(self, job_id: str, model: str, input_tokens: int, output_tokens: int,
                          cost_usd: float) -> None: ...
    async def summary(self, since: float, by: Sequence[str], where: dict[str, str]) -> list[UsageLine]: ...
    async def job_ids(self, platform: str, user_id: str, *, limit: int | None = None,
                      offset: int = 0, workspace: str | None = None) -> list[str]: ...
    async def count_jobs(self, platform: str, user_id: str, *, workspace: str | None = None) -> int: ...
    async def delete(self, job_ids: Sequence[str]) -> None: ...


class SqlCommunityStore:
    """Shares the journal's open database; the studio opens and closes it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def upgrade(self) -> None:
        await self.db.script(TABLES)

    async def _one(self, sql: str, params: tuple[Any, ...], tx: Executor | None = None) -> Row | None:
        return await (tx or self.db).fetch_one(sql, params)

    async def _all(self, sql: str, params: tuple[Any, ...], tx: Executor | None = None) -> list[Row]:
        return await (tx or self.db).fetch_all(sql, params)

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        await self.db.execute(sql, params)

    async def get_settings(self, platform: str, workspace: str) -> str | None:
        row = await self._one("SELECT data FROM server_settings WHERE platform = ? AND workspace = ?",
                              (platform, workspace))
        return None if row is None else str(row["data"])

    async def put_settings(self, platform: str, workspace: str, data: str) -> None:
        await self._write(
            "INSERT INTO server_settings (platform, workspace, data, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (platform, workspace) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (platform, workspace, data, time.time()))

    async def admit(self, row: LedgerRow, windows: Sequence[Window]) -> Breach | None:
        async with self.db.transaction(exclusive=True) as tx:
            for window in windows:
                breach = await self._check(row, window, tx)
                if breach is not None:
                    return breach  # nothing was written: leaving the transaction commits nothing
            await tx.execute(
                "INSERT INTO usage (job_id, platform, workspace, user_id, kind, units, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.job_id, row.platform, row.workspace, row.user_id, row.kind, row.units, row.created_at))
        return None

    async def _check(self, row: LedgerRow, window: Window, tx: Executor) -> Breach | None:
        column, value = ("user_id", row.user_id) if window.scope == "user" else ("workspace", row.workspace)
        where = f"platform = ? AND {column} = ? AND created_at > ?"
        params = (row.platform, value, window.since)
        if window.measure == "cost":
            found = await self._one(f"SELECT COALESCE(SUM(cost_usd), 0) AS used FROM usage WHERE {where}",  # noqa: S608
                                    params, tx)
            used = float(found["used"]) if found else 0.0
            return Breach(window, used, ()) if used >= window.limit else None
        found = await self._one(f"SELECT COALESCE(SUM(units), 0) AS used FROM usage WHERE {where}",  # noqa: S608
                                params, tx)
        used = int(found["used"]) if found else 0
        if used + row.units <= window.limit or not row.units:
            return None
        times: tuple[float, ...] = ()
        if window.slides:  # when a slot frees depends on when the oldest requests leave the window
            rows = await self._all(f"SELECT created_at, units FROM usage WHERE {where} ORDER BY created_at",  # noqa: S608
                                   params, tx)
            times = tuple(float(r["created_at"]) for r in rows for _ in range(int(r["units"])))
        return Breach(window, used, times, row.units)

    async def forget_request(self, job_id: str) -> None:
        await self._write("DELETE FROM usage WHERE job_id = ?", (job_id,))

    async def record_cost(self, job_id: str, model: str, input_tokens: int, output_tokens: int,
                          cost_usd: float) -> None:
        await self._write(
            "UPDATE usage SET model = ?, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,"
            " cost_usd = cost_usd + ? WHERE job_id = ?",
            (model, input_tokens, output_tokens, cost_usd, job_id))

    async def summary(self, since: float, by: Sequence[str], where: dict[str, str]) -> list[UsageLine]:
        if not set(by) | set(where) <= set(GROUPS):
            raise ValueError(f"usage can be grouped by {', '.join(GROUPS)}")
        keys = ", ".join(by)
        filters = "".join(f" AND {name} = ?" for name in where)
        select = f"{keys}, " if by else ""
        group = f" GROUP BY {keys} ORDER BY {keys}" if by else ""
        rows = await self._all(
            f"SELECT {select}COUNT(*) AS requests, COALESCE(SUM(units), 0) AS units,"  # noqa: S608
            f" COALESCE(SUM(cost_usd), 0) AS cost, COALESCE(SUM(input_tokens), 0) AS tin,"
            f" COALESCE(SUM(output_tokens), 0) AS tout"
            f" FROM usage WHERE created_at > ?{filters}{group}",
            (since, *where.values()))
        return [UsageLine({k: str(r[k]) for k in by}, int(r["requests"]), float(r["cost"]), int(r["tin"]),
                          int(r["tout"]), int(r["units"])) for r in rows if int(r["requests"])]

    async def job_ids(self, platform: str, user_id: str, *, limit: int | None = None,
                      offset: int = 0, workspace: str | None = None) -> list[str]:
        rows = await self._all(
            "SELECT job_id FROM usage WHERE platform = ? AND user_id = ?"
            " AND (CAST(? AS TEXT) IS NULL OR workspace = ?)"
            " ORDER BY created_at DESC LIMIT ? OFFSET ?",
            (platform, user_id, workspace, workspace, NO_LIMIT if limit is None else limit, offset))
        return [str(r["job_id"]) for r in rows]

    async def count_jobs(self, platform: str, user_id: str, *, workspace: str | None = None) -> int:
        row = await self._one(
            "SELECT COUNT(*) AS n FROM usage WHERE platform = ? AND user_id = ?"
            " AND (CAST(? AS TEXT) IS NULL OR workspace = ?)",
            (platform, user_id, workspace, workspace))
        return int(row["n"]) if row else 0

    async def delete(self, job_ids: Sequence[str]) -> None:
        await self.db.execute_many("DELETE FROM usage WHERE job_id = ?", [(j,) for j in job_ids])
