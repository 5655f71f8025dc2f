"""The durable journal: every accepted job is written here before any work starts.

``Journal`` is the interface the runner and the studio use; ``SqliteJournal`` is the
embedded default (aiosqlite, WAL). Nothing outside ``core/jobs/`` knows which store it is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from core.jobs import codec
from core.jobs.files import BlobStore
from core.jobs.model import Delivery, Job, JobState, ResultRef
from core.requests import Parent, Requester, parents_of

SCHEMA_VERSION = 3
LINEAGE = """
CREATE TABLE IF NOT EXISTS lineage (
    job_id    TEXT NOT NULL REFERENCES jobs(id),
    position  INTEGER NOT NULL,
    parent_id TEXT NOT NULL,
    candidate INTEGER,
    PRIMARY KEY (job_id, position)
);
CREATE INDEX IF NOT EXISTS lineage_by_parent ON lineage(parent_id);
"""
MIGRATIONS: dict[int, str] = {  # version -> what turns the previous version into it
    2: "ALTER TABLE jobs ADD COLUMN dedupe_key TEXT;",
    3: LINEAGE,
}
TABLES = LINEAGE + """
CREATE TABLE IF NOT EXISTS jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    platform      TEXT NOT NULL,
    state         TEXT NOT NULL,
    request       TEXT NOT NULL,
    requester     TEXT NOT NULL,
    origin        TEXT NOT NULL,
    parent_id     TEXT REFERENCES jobs(id),
    attempts      INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    error         TEXT,
    result        TEXT,
    delivery      TEXT NOT NULL DEFAULT 'pending',
    delivered_ref TEXT,
    dedupe_key    TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_open ON jobs(state) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_undelivered ON jobs(platform, delivery) WHERE delivery != 'delivered';
CREATE INDEX IF NOT EXISTS jobs_by_ref ON jobs(platform, delivered_ref);
CREATE INDEX IF NOT EXISTS jobs_recent ON jobs(platform, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_dedupe ON jobs(dedupe_key) WHERE dedupe_key IS NOT NULL;
"""


class Journal(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def add(self, job: Job) -> None: ...
    async def get(self, job_id: str) -> Job | None: ...
    async def start(self, job_id: str) -> Job: ...
    async def finish(self, job_id: str, state: JobState, *, result: ResultRef | None = None,
                     error_code: str | None = None, error: str | None = None) -> Job: ...
    async def unfinished(self) -> list[Job]: ...
    async def requeue(self, job_id: str) -> None: ...
    async def undelivered(self, platforms: Collection[str]) -> list[Job]: ...
    async def claim_delivery(self, job_id: str) -> bool: ...
    async def mark_delivered(self, job_id: str, ref: str | None = None) -> None: ...
    async def find_delivered(self, platform: str, ref: str) -> Job | None: ...
    async def find_by_key(self, dedupe_key: str) -> Job | None: ...
    async def recent(self, platform: str, *, limit: int = 50, channel: str | None = None) -> list[Job]: ...
    async def parents(self, job_id: str) -> list[Parent]: ...
    async def children(self, job_id: str) -> list[str]: ...
    async def delete(self, job_id: str) -> None: ...
    async def uses_blob(self, key: str) -> bool: ...
    async def ids_of(self, platform: str, user_id: str) -> list[str]: ...


class SqliteJournal:
    """SQLite in WAL mode: one writer connection, committed on every state change."""

    def __init__(self, path: Path, blobs: BlobStore) -> None:
        self.path = path
        self.blobs = blobs
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        self._db.row_factory = aiosqlite.Row
        try:
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=NORMAL")
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._migrate(self._db)
        except BaseException:
            await self.close()  # its worker thread would otherwise keep the process from exiting
            raise

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        """Bring an older journal up to date in place; a new one starts at the current schema."""
        async with db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        async with db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'") as cursor:
            exists = await cursor.fetchone() is not None
        if not exists:
            await db.executescript(TABLES)
        else:
            for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
                await db.executescript(MIGRATIONS[target])
        await db.executescript(INDEXES)
        await db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        await db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("journal is not open")
        return self._db

    async def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        async with self._lock:
            cursor = await self.db.execute(sql, params)
            await self.db.commit()
            return cursor.rowcount

    async def add(self, job: Job) -> None:
        request = await asyncio.to_thread(codec.dump_request, job.request, self.blobs)
        now = time.time()
        await self._write(
            "INSERT INTO jobs (id, kind, platform, state, request, requester, origin, parent_id, attempts,"
            " delivery, dedupe_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job.id, job.kind, job.origin.platform, job.state.value, request, codec.dump_plain(job.requester),
             codec.dump_plain(job.origin), job.parent_id, job.attempts, job.delivery.value, job.dedupe_key, now, now),
        )
        await self._add_lineage(job)

    async def _add_lineage(self, job: Job) -> None:
        """Where a U/V/Upscale/Blend result came from: its parents in order, with the grid cell if any."""
        rows = [(job.id, n, p.job_id, p.candidate) for n, p in enumerate(parents_of(job.request), start=1)]
        if not rows:
            return
        async with self._lock:
            await self.db.executemany(
                "INSERT OR IGNORE INTO lineage (job_id, position, parent_id, candidate) VALUES (?, ?, ?, ?)", rows)
            await self.db.commit()

    async def parents(self, job_id: str) -> list[Parent]:
        async with self.db.execute(
            "SELECT parent_id, candidate FROM lineage WHERE job_id = ? ORDER BY position", (job_id,)
        ) as cursor:
            return [Parent(row[0], row[1]) for row in await cursor.fetchall()]

    async def children(self, job_id: str) -> list[str]:
        async with self.db.execute(
            "SELECT l.job_id FROM lineage l JOIN jobs j ON j.id = l.job_id WHERE l.parent_id = ?"
            " ORDER BY j.created_at", (job_id,)
        ) as cursor:
            return [str(row[0]) for row in await cursor.fetchall()]

    async def get(self, job_id: str) -> Job | None:
        jobs = await self._select("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return jobs[0] if jobs else None

    async def _require(self, job_id: str) -> Job:
        job = await self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    async def start(self, job_id: str) -> Job:
        await self._write(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?",
            (time.time(), job_id),
        )
        return await self._require(job_id)

    async def finish(self, job_id: str, state: JobState, *, result: ResultRef | None = None,
                     error_code: str | None = None, error: str | None = None) -> Job:
        if not state.terminal:
            raise ValueError(f"{state} is not terminal")
        await self._write(
            "UPDATE jobs SET state = ?, result = ?, error_code = ?, error = ?, updated_at = ?"
            " WHERE id = ? AND state IN ('queued', 'running')",
            (state.value, codec.dump_result(result), error_code, error, time.time(), job_id),
        )
        return await self._require(job_id)

    async def unfinished(self) -> list[Job]:
        return await self._select(
            "SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at", ()
        )

    async def requeue(self, job_id: str) -> None:
        await self._write(
            "UPDATE jobs SET state = 'queued', updated_at = ? WHERE id = ? AND state = 'running'", (time.time(), job_id)
        )

    async def undelivered(self, platforms: Collection[str]) -> list[Job]:
        if not platforms:
            return []
        marks = ", ".join("?" for _ in platforms)
        return await self._select(
            f"SELECT * FROM jobs WHERE delivery != 'delivered' AND state IN ('done', 'failed')"  # noqa: S608
            f" AND platform IN ({marks}) ORDER BY created_at",
            tuple(platforms),
        )

    async def claim_delivery(self, job_id: str) -> bool:
        changed = await self._write(
            "UPDATE jobs SET delivery = 'delivering', updated_at = ? WHERE id = ? AND delivery = 'pending'",
            (time.time(), job_id),
        )
        return changed == 1

    async def mark_delivered(self, job_id: str, ref: str | None = None) -> None:
        await self._write(
            "UPDATE jobs SET delivery = 'delivered', delivered_ref = COALESCE(?, delivered_ref), updated_at = ?"
            " WHERE id = ?",
            (ref, time.time(), job_id),
        )

    async def find_delivered(self, platform: str, ref: str) -> Job | None:
        jobs = await self._select(
            "SELECT * FROM jobs WHERE platform = ? AND delivered_ref = ? ORDER BY created_at DESC LIMIT 1",
            (platform, ref),
        )
        return jobs[0] if jobs else None

    async def find_by_key(self, dedupe_key: str) -> Job | None:
        jobs = await self._select("SELECT * FROM jobs WHERE dedupe_key = ?", (dedupe_key,))
        return jobs[0] if jobs else None

    async def recent(self, platform: str, *, limit: int = 50, channel: str | None = None) -> list[Job]:
        jobs = await self._select(
            "SELECT * FROM jobs WHERE platform = ? AND (? IS NULL OR json_extract(origin, '$.channel') = ?)"
            " ORDER BY created_at DESC LIMIT ?",
            (platform, channel, channel, limit),
        )
        return list(reversed(jobs))

    async def delete(self, job_id: str) -> None:
        """Forget a job entirely (a member deleted it); edits made from it keep their own record."""
        async with self._lock:
            await self.db.execute("UPDATE jobs SET parent_id = NULL WHERE parent_id = ?", (job_id,))
            await self.db.execute("DELETE FROM lineage WHERE job_id = ? OR parent_id = ?", (job_id, job_id))
            await self.db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            await self.db.commit()

    async def uses_blob(self, key: str) -> bool:
        """Whether any job's request still refers to this input file."""
        async with self.db.execute("SELECT 1 FROM jobs WHERE request LIKE ? LIMIT 1", (f'%"{key}"%',)) as cursor:
            return await cursor.fetchone() is not None

    async def ids_of(self, platform: str, user_id: str) -> list[str]:
        """Every job one member asked for (``/forget-me``)."""
        needle = codec.dump_plain(Requester(platform, user_id)).split(',"name"')[0].strip("{")
        async with self.db.execute("SELECT id FROM jobs WHERE platform = ? AND requester LIKE ?",
                                   (platform, f"%{needle}%")) as cursor:
            return [str(r[0]) for r in await cursor.fetchall()]

    async def _select(self, sql: str, params: tuple[Any, ...]) -> list[Job]:
        async with self.db.execute(sql, params) as cursor:
            rows = list(await cursor.fetchall())
        return await asyncio.to_thread(lambda: [self._row_to_job(r) for r in rows])

    def _row_to_job(self, row: aiosqlite.Row) -> Job:
        return Job(
            id=row["id"],
            request=codec.load_request(row["kind"], row["request"], self.blobs),
            requester=codec.load_requester(row["requester"]),
            origin=codec.load_origin(row["origin"]),
            parent_id=row["parent_id"],
            state=JobState(row["state"]),
            attempts=row["attempts"],
            error_code=row["error_code"],
            error=row["error"],
            result=codec.load_result(row["result"]),
            delivery=Delivery(row["delivery"]),
            delivered_ref=row["delivered_ref"],
            dedupe_key=row["dedupe_key"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
