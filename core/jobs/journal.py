# ruff: noqa: S608  (queries are built from constants in this module, never from input)
"""The durable journal: every accepted job is written here before any work starts.

``Journal`` is the interface the runner and the studio use; ``SqliteJournal`` is the
embedded default (aiosqlite, WAL). Nothing outside ``core/jobs/`` knows which store it is.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from core.jobs import codec
from core.jobs.files import BlobStore
from core.jobs.model import Delivery, Job, JobState, ResultRef
from core.requests import Parent, Requester, parents_of

BLOB_REF = re.compile(r'"\$blob":"([0-9a-f]{64})"')
SCHEMA_VERSION = 4
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
ATTEMPTS_TABLE = """
CREATE TABLE IF NOT EXISTS delivery_attempts (
    job_id   TEXT NOT NULL,
    at       REAL NOT NULL,
    outcome  TEXT NOT NULL,  -- posted | reconciled | retry | refused | gave_up | error
    ref      TEXT,
    detail   TEXT
);
"""
MIGRATIONS: dict[int, str] = {  # version -> what turns the previous version into it
    2: "ALTER TABLE jobs ADD COLUMN dedupe_key TEXT;",
    3: LINEAGE,
    4: "ALTER TABLE jobs ADD COLUMN owner TEXT; ALTER TABLE jobs ADD COLUMN lease_until REAL;"
       + ATTEMPTS_TABLE
       # capabilities never belong in the journal: forget any an older version stored
       + "UPDATE jobs SET origin = json_remove(origin, '$.meta.response_url');",
}
OPEN = ("(state IN ('queued', 'running')"  # still to run, or run but not yet delivered: someone must own it
        " OR (delivery IN ('pending', 'delivering') AND state NOT IN ('queued', 'running')))")
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
    owner         TEXT,
    lease_until   REAL,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
""" + ATTEMPTS_TABLE
INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_open ON jobs(state) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_undelivered ON jobs(platform, delivery) WHERE delivery != 'delivered';
CREATE INDEX IF NOT EXISTS jobs_by_ref ON jobs(platform, delivered_ref);
CREATE INDEX IF NOT EXISTS jobs_recent ON jobs(platform, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_dedupe ON jobs(dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs(owner, lease_until);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs(updated_at);
CREATE INDEX IF NOT EXISTS attempts_by_job ON delivery_attempts(job_id);
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
    async def mark_undeliverable(self, job_id: str, reason: str) -> None: ...
    async def record_attempt(self, job_id: str, outcome: str, *, ref: str | None = None,
                             detail: str | None = None) -> None: ...
    async def attempts_of(self, job_id: str) -> list[tuple[str, str | None, str | None]]: ...
    # leases: who runs and delivers a job; the columns the scale-out store builds on
    async def heartbeat(self, owner: str, until: float) -> int: ...
    async def take_over(self, owner: str, until: float, *, dead: Collection[str] = ()) -> list[Job]: ...
    async def owners(self) -> list[str]: ...
    async def release(self, owner: str) -> int: ...
    # retention
    async def prune(self, before: float) -> list[ResultRef]: ...
    async def blob_keys(self) -> set[str]: ...
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
            await self._db.execute("PRAGMA busy_timeout=15000")  # other processes may share the data dir
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
            " delivery, dedupe_key, owner, lease_until, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job.id, job.kind, job.origin.platform, job.state.value, request, codec.dump_plain(job.requester),
             codec.dump_plain(job.origin), job.parent_id, job.attempts, job.delivery.value, job.dedupe_key,
             job.owner, job.lease_until, now, now),
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
            f"SELECT * FROM jobs WHERE delivery IN ('pending', 'delivering') AND state NOT IN ('queued', 'running')"
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

    async def mark_undeliverable(self, job_id: str, reason: str) -> None:
        await self._write(
            "UPDATE jobs SET delivery = 'undeliverable', error = COALESCE(error, ?), updated_at = ? WHERE id = ?",
            (reason, time.time(), job_id),
        )

    async def record_attempt(self, job_id: str, outcome: str, *, ref: str | None = None,
                             detail: str | None = None) -> None:
        await self._write(
            "INSERT INTO delivery_attempts (job_id, at, outcome, ref, detail) VALUES (?, ?, ?, ?, ?)",
            (job_id, time.time(), outcome, ref, detail),
        )

    async def attempts_of(self, job_id: str) -> list[tuple[str, str | None, str | None]]:
        """(outcome, ref, detail) of every delivery attempt, oldest first."""
        async with self.db.execute(
            "SELECT outcome, ref, detail FROM delivery_attempts WHERE job_id = ? ORDER BY rowid", (job_id,)
        ) as cursor:
            return [(r[0], r[1], r[2]) for r in await cursor.fetchall()]

    async def heartbeat(self, owner: str, until: float) -> int:
        """Renew every open job this process owns; returns how many."""
        return await self._write(
            f"UPDATE jobs SET lease_until = ? WHERE owner = ? AND {OPEN}", (until, owner)
        )

    async def take_over(self, owner: str, until: float, *, dead: Collection[str] = ()) -> list[Job]:
        """Atomically own every open job whose lease expired, was released, or whose owner is known dead."""
        marks = ", ".join("?" for _ in dead) or "NULL"
        async with self._lock:
            async with self.db.execute(
                f"UPDATE jobs SET owner = ?, lease_until = ? WHERE {OPEN} AND (owner IS NULL OR owner != ?)"
                f" AND (owner IS NULL OR lease_until IS NULL OR lease_until < ? OR owner IN ({marks})) RETURNING id",
                (owner, until, owner, time.time(), *dead),
            ) as cursor:
                ids = [r[0] for r in await cursor.fetchall()]
            await self.db.commit()
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        return await self._select(f"SELECT * FROM jobs WHERE id IN ({marks}) ORDER BY created_at", tuple(ids))

    async def owners(self) -> list[str]:
        async with self.db.execute(f"SELECT DISTINCT owner FROM jobs WHERE owner IS NOT NULL AND {OPEN}") as cursor:
            return [r[0] for r in await cursor.fetchall()]

    async def release(self, owner: str) -> int:
        """Give up every open job (graceful stop): running ones go back to queued, and the attempt is not a crash."""
        return await self._write(
            "UPDATE jobs SET owner = NULL, lease_until = NULL,"
            " attempts = CASE WHEN state = 'running' THEN MAX(attempts - 1, 0) ELSE attempts END,"
            f" state = CASE WHEN state = 'running' THEN 'queued' ELSE state END WHERE owner = ? AND {OPEN}",
            (owner,),
        )

    async def prune(self, before: float) -> list[ResultRef]:
        """Forget finished, delivered jobs last touched before ``before``; returns their result files."""
        async with self._lock:
            done = f"updated_at < ? AND state NOT IN ('queued', 'running') AND NOT {OPEN}"
            async with self.db.execute(f"SELECT result FROM jobs WHERE {done}", (before,)) as cursor:
                refs = [codec.load_result(r[0]) for r in await cursor.fetchall()]
            gone = f"(SELECT id FROM jobs WHERE {done})"
            await self.db.execute(f"UPDATE jobs SET parent_id = NULL WHERE parent_id IN {gone}", (before,))
            await self.db.execute(f"DELETE FROM delivery_attempts WHERE job_id IN {gone}", (before,))
            await self.db.execute(f"DELETE FROM lineage WHERE job_id IN {gone}", (before,))
            await self.db.execute(f"DELETE FROM jobs WHERE {done}", (before,))
            await self.db.commit()
        return [r for r in refs if r is not None]

    async def blob_keys(self) -> set[str]:
        """Input blobs some remaining job still refers to."""
        async with self.db.execute("SELECT request FROM jobs WHERE request LIKE '%$blob%'") as cursor:
            rows = await cursor.fetchall()
        return {m for r in rows for m in BLOB_REF.findall(r[0])}

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
            owner=row["owner"],
            lease_until=row["lease_until"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
