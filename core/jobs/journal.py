# ruff: noqa: S608  (queries are built from constants in this module, never from input)
"""The durable journal: every accepted job is written here before any work starts.

``Journal`` is the interface the runner and the studio use; ``SqlJournal`` keeps it in the project's
one SQL database (``core.db``): the embedded SQLite file by default, PostgreSQL when
``STUDIOBOT_DATABASE_URL`` names one. Nothing outside ``core/jobs/`` knows which store it is.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

from core.db import Database, Executor, Row
from core.jobs import codec, schema
from core.jobs.files import BlobStore
from core.jobs.model import Delivery, Job, JobState, ResultRef
from core.requests import Parent, Requester, parents_of

BLOB_REF = re.compile(r'"\$blob":"([0-9a-f]{64})"')
SCHEMA_VERSION = schema.SCHEMA_VERSION
OPEN = ("(state IN ('queued', 'running')"  # still to run, or run but not yet delivered: someone must own it
        " OR (delivery IN ('pending', 'delivering') AND state NOT IN ('queued', 'running')))")


Enqueue = Callable[[Executor], Awaitable[None]]  # writes the queue entry inside the journal's transaction


class Journal(Protocol):
    async def upgrade(self) -> None: ...
    async def add(self, job: Job, *, enqueue: Enqueue | None = None) -> None: ...
    async def get(self, job_id: str) -> Job | None: ...
    async def start(self, job_id: str, *, owner: str | None = None) -> Job: ...
    async def finish(self, job_id: str, state: JobState, *, result: ResultRef | None = None,
                     error_code: str | None = None, error: str | None = None) -> Job: ...
    async def unfinished(self) -> list[Job]: ...
    async def requeue(self, job_id: str, *, crashed: bool = True) -> None: ...
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
    async def counts(self) -> list[tuple[str, str, str, int]]: ...


class SqlJournal:
    """Committed on every state change; statements are the SQL SQLite and PostgreSQL share.

    The database is opened and closed by whoever builds the studio: the community tables share it.
    """

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs

    async def upgrade(self) -> None:
        """Bring an older journal up to date in place; a new one starts at the current schema."""
        if not await self.db.has_table("jobs"):
            await self.db.script(schema.TABLES)
        elif self.db.dialect == "sqlite":
            version = await self.db.schema_version("journal")
            for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
                await self.db.script(schema.SQLITE_MIGRATIONS[target])
        await self.db.script(schema.INDEXES)
        if self.db.dialect == "postgresql":
            await self.db.script(schema.FILES_TABLE)
        await self.db.set_schema_version("journal", SCHEMA_VERSION)

    async def add(self, job: Job, *, enqueue: Enqueue | None = None) -> None:
        """Record a new job; ``enqueue`` writes its queue entry in the same transaction (the shared queue)."""
        request = await asyncio.to_thread(codec.dump_request, job.request, self.blobs)
        now = time.time()
        lineage = [(job.id, n, p.job_id, p.candidate) for n, p in enumerate(parents_of(job.request), start=1)]
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO jobs (id, kind, platform, state, request, requester, origin, parent_id, attempts,"
                " delivery, dedupe_key, owner, lease_until, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job.id, job.kind, job.origin.platform, job.state.value, request, codec.dump_plain(job.requester),
                 codec.dump_plain(job.origin), job.parent_id, job.attempts, job.delivery.value, job.dedupe_key,
                 job.owner, job.lease_until, now, now),
            )
            if lineage:  # where a U/V/Upscale/Blend result came from: parents in order, with the grid cell
                await tx.execute_many(
                    "INSERT INTO lineage (job_id, position, parent_id, candidate) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING", lineage)
            if enqueue is not None:
                await enqueue(tx)

    async def parents(self, job_id: str) -> list[Parent]:
        rows = await self.db.fetch_all(
            "SELECT parent_id, candidate FROM lineage WHERE job_id = ? ORDER BY position", (job_id,))
        return [Parent(r["parent_id"], r["candidate"]) for r in rows]

    async def children(self, job_id: str) -> list[str]:
        rows = await self.db.fetch_all(
            "SELECT l.job_id FROM lineage l JOIN jobs j ON j.id = l.job_id WHERE l.parent_id = ?"
            " ORDER BY j.created_at", (job_id,))
        return [str(r["job_id"]) for r in rows]

    async def get(self, job_id: str) -> Job | None:
        jobs = await self._select("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return jobs[0] if jobs else None

    async def _require(self, job_id: str) -> Job:
        job = await self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    async def start(self, job_id: str, *, owner: str | None = None) -> Job:
        """Mark it running (one more attempt); ``owner`` records which worker runs it, when scaled out."""
        rows = await self.db.write_returning(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, owner = COALESCE(?, owner), updated_at = ?"
            " WHERE id = ? RETURNING *",
            (owner, time.time(), job_id),
        )
        if not rows:
            raise KeyError(job_id)
        return await self._job(rows[0])

    async def finish(self, job_id: str, state: JobState, *, result: ResultRef | None = None,
                     error_code: str | None = None, error: str | None = None) -> Job:
        if not state.terminal:
            raise ValueError(f"{state} is not terminal")
        rows = await self.db.write_returning(
            "UPDATE jobs SET state = ?, result = ?, error_code = ?, error = ?, updated_at = ?"
            " WHERE id = ? AND state IN ('queued', 'running') RETURNING *",
            (state.value, codec.dump_result(result), error_code, error, time.time(), job_id),
        )
        return await self._job(rows[0]) if rows else await self._require(job_id)  # already ended: as it is

    async def unfinished(self) -> list[Job]:
        return await self._select("SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at")

    async def requeue(self, job_id: str, *, crashed: bool = True) -> None:
        """Back in line; a run interrupted by a graceful stop (``crashed=False``) does not count as an attempt."""
        await self.db.execute(
            "UPDATE jobs SET state = 'queued', updated_at = ?,"
            " attempts = CASE WHEN ? AND attempts > 0 THEN attempts - 1 ELSE attempts END"
            " WHERE id = ? AND state = 'running'", (time.time(), not crashed, job_id)
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
        changed = await self.db.execute(
            "UPDATE jobs SET delivery = 'delivering', updated_at = ? WHERE id = ? AND delivery = 'pending'",
            (time.time(), job_id),
        )
        return changed == 1

    async def mark_delivered(self, job_id: str, ref: str | None = None) -> None:
        await self.db.execute(
            "UPDATE jobs SET delivery = 'delivered', delivered_ref = COALESCE(?, delivered_ref), updated_at = ?"
            " WHERE id = ?",
            (ref, time.time(), job_id),
        )

    async def mark_undeliverable(self, job_id: str, reason: str) -> None:
        await self.db.execute(
            "UPDATE jobs SET delivery = 'undeliverable', error = COALESCE(error, ?), updated_at = ? WHERE id = ?",
            (reason, time.time(), job_id),
        )

    async def record_attempt(self, job_id: str, outcome: str, *, ref: str | None = None,
                             detail: str | None = None) -> None:
        await self.db.execute(
            "INSERT INTO delivery_attempts (job_id, at, outcome, ref, detail) VALUES (?, ?, ?, ?, ?)",
            (job_id, time.time(), outcome, ref, detail),
        )

    async def attempts_of(self, job_id: str) -> list[tuple[str, str | None, str | None]]:
        """(outcome, ref, detail) of every delivery attempt, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT outcome, ref, detail FROM delivery_attempts WHERE job_id = ? ORDER BY at", (job_id,))
        return [(r["outcome"], r["ref"], r["detail"]) for r in rows]

    async def heartbeat(self, owner: str, until: float) -> int:
        """Renew every open job this process owns; returns how many."""
        return await self.db.execute(f"UPDATE jobs SET lease_until = ? WHERE owner = ? AND {OPEN}", (until, owner))

    async def take_over(self, owner: str, until: float, *, dead: Collection[str] = ()) -> list[Job]:
        """Atomically own every open job whose lease expired, was released, or whose owner is known dead."""
        marks = ", ".join("?" for _ in dead) or "NULL"
        async with self.db.transaction() as tx:
            rows = await tx.fetch_all(
                f"UPDATE jobs SET owner = ?, lease_until = ? WHERE {OPEN} AND (owner IS NULL OR owner != ?)"
                f" AND (owner IS NULL OR lease_until IS NULL OR lease_until < ? OR owner IN ({marks})) RETURNING id",
                (owner, until, owner, time.time(), *dead),
            )
        if not rows:
            return []
        ids = tuple(r["id"] for r in rows)
        marks = ", ".join("?" for _ in ids)
        return await self._select(f"SELECT * FROM jobs WHERE id IN ({marks}) ORDER BY created_at", ids)

    async def owners(self) -> list[str]:
        rows = await self.db.fetch_all(f"SELECT DISTINCT owner FROM jobs WHERE owner IS NOT NULL AND {OPEN}")
        return [str(r["owner"]) for r in rows]

    async def release(self, owner: str) -> int:
        """Give up every open job (graceful stop): running ones go back to queued, and the attempt is not a crash."""
        return await self.db.execute(
            "UPDATE jobs SET owner = NULL, lease_until = NULL,"
            " attempts = CASE WHEN state = 'running' AND attempts > 0 THEN attempts - 1 ELSE attempts END,"
            f" state = CASE WHEN state = 'running' THEN 'queued' ELSE state END WHERE owner = ? AND {OPEN}",
            (owner,),
        )

    async def prune(self, before: float) -> list[ResultRef]:
        """Forget finished, delivered jobs last touched before ``before``; returns their result files."""
        done = f"updated_at < ? AND state NOT IN ('queued', 'running') AND NOT {OPEN}"
        gone = f"(SELECT id FROM jobs WHERE {done})"
        async with self.db.transaction() as tx:
            rows = await tx.fetch_all(f"SELECT result FROM jobs WHERE {done}", (before,))
            await tx.execute(f"UPDATE jobs SET parent_id = NULL WHERE parent_id IN {gone}", (before,))
            await tx.execute(f"DELETE FROM delivery_attempts WHERE job_id IN {gone}", (before,))
            await tx.execute(f"DELETE FROM lineage WHERE job_id IN {gone}", (before,))
            await tx.execute(f"DELETE FROM jobs WHERE {done}", (before,))
        refs = [codec.load_result(r["result"]) for r in rows]
        return [r for r in refs if r is not None]

    async def blob_keys(self) -> set[str]:
        """Input blobs some remaining job still refers to."""
        rows = await self.db.fetch_all("SELECT request FROM jobs WHERE request LIKE '%$blob%'")
        return {m for r in rows for m in BLOB_REF.findall(r["request"])}

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
        in_channel = self.db.json_text("origin", "channel")
        jobs = await self._select(
            f"SELECT * FROM jobs WHERE platform = ? AND (CAST(? AS TEXT) IS NULL OR {in_channel} = ?)"
            " ORDER BY created_at DESC LIMIT ?",
            (platform, channel, channel, limit),
        )
        return list(reversed(jobs))

    async def delete(self, job_id: str) -> None:
        """Forget a job entirely (a member deleted it); edits made from it keep their own record."""
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE jobs SET parent_id = NULL WHERE parent_id = ?", (job_id,))
            await tx.execute("DELETE FROM lineage WHERE job_id = ? OR parent_id = ?", (job_id, job_id))
            await tx.execute("DELETE FROM delivery_attempts WHERE job_id = ?", (job_id,))
            await tx.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    async def uses_blob(self, key: str) -> bool:
        """Whether any job's request still refers to this input file."""
        row = await self.db.fetch_one("SELECT 1 AS found FROM jobs WHERE request LIKE ? LIMIT 1", (f'%"{key}"%',))
        return row is not None

    async def counts(self) -> list[tuple[str, str, str, int]]:
        """Jobs by kind, state and delivery, for metrics (every process's jobs: it is the shared journal)."""
        rows = await self.db.fetch_all(
            "SELECT kind, state, delivery, COUNT(*) AS n FROM jobs GROUP BY kind, state, delivery")
        return [(str(r["kind"]), str(r["state"]), str(r["delivery"]), int(r["n"])) for r in rows]

    async def ids_of(self, platform: str, user_id: str) -> list[str]:
        """Every job one member asked for (``/forget-me``)."""
        needle = codec.dump_plain(Requester(platform, user_id)).split(',"name"')[0].strip("{")
        rows = await self.db.fetch_all("SELECT id FROM jobs WHERE platform = ? AND requester LIKE ?",
                                       (platform, f"%{needle}%"))
        return [str(r["id"]) for r in rows]

    async def _select(self, sql: str, params: tuple[Any, ...] = ()) -> list[Job]:
        rows = await self.db.fetch_all(sql, params)
        if len(rows) == 1:
            return [await self._job(rows[0])]
        return await asyncio.to_thread(lambda: [self._row_to_job(r) for r in rows])

    async def _job(self, row: Row) -> Job:
        """Rows without stored input files decode on the loop; only blob reads go to a thread."""
        if '"$blob"' in row["request"]:
            return await asyncio.to_thread(self._row_to_job, row)
        return self._row_to_job(row)

    def _row_to_job(self, row: Row) -> Job:
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

