"""The job queue shared by every process when Studiobot is scaled out: procrastinate on PostgreSQL.

procrastinate brings what a home-made queue would get wrong: worker heartbeats and stalled-job recovery,
aborting a running async job, per-job locks and LISTEN/NOTIFY. Studiobot uses one task,
``studiobot.run_job(job_id)``; the journal row stays the record of the job and procrastinate's row is only
the claim to run it. Both are written in one transaction (``put`` defers on the journal's connection), so
neither exists without the other.

Each queue entry carries the job id as its ``queueing_lock`` (a job is queued at most once) and its
``lock`` (two workers never run one job at once, even after a stalled worker's job was retried).
Queue positions are read from procrastinate's table by whoever shows them, at most once per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.job_context import AbortReason
from procrastinate.worker import Worker

from core.db.base import Database, Executor
from core.db.postgres import PgExecutor
from core.errors import RateLimited

log = logging.getLogger(__name__)

TASK = "studiobot.run_job"
BUSY = "The studio is very busy right now. Try again in a minute."
# A worker stopped mid-job (SIGTERM past the grace period) re-queues it; a job that keeps failing that way
# is ended by the runner's own attempt count, long before procrastinate gives up.
RETRY = RetryStrategy(max_attempts=20, wait=1)

# (job_id, aborted by a user?) -> awaited by the task; set by whichever process runs workers.
RunJob = Callable[[str, Callable[[], bool]], Awaitable[None]]


class SharedQueue:
    """``JobQueue`` over procrastinate: enqueue in the journal's transaction, cancel, abort, positions."""

    shared = True

    def __init__(self, url: str, max_size: int = 200, *, pool_size: int = 4) -> None:
        self.max_size = max_size
        self.app = App(connector=PsycopgConnector(conninfo=url, min_size=1, max_size=pool_size,
                                                  name="studiobot-queue"))
        self._run_job: RunJob | None = None
        self._waiting: dict[str, list[str]] = {}
        self.app.task(name=TASK, pass_context=True, retry=RETRY)(self._task)

    @classmethod
    async def opened(cls, url: str, db: Database, max_size: int) -> SharedQueue:
        """The queue open, its schema created first (procrastinate's tables live in the same database)."""
        queue = cls(url, max_size)
        await queue.upgrade(db)
        await queue.open()
        return queue

    async def open(self) -> None:
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def upgrade(self, db: Database) -> None:
        """procrastinate's schema, once: applying it twice fails, so check first, under the schema lock."""
        if not await db.has_table("procrastinate_jobs"):
            await db.script(self.app.schema_manager.get_schema(), unless_table="procrastinate_jobs")

    # -- the JobQueue interface ------------------------------------------------------------------------------

    async def put(self, job_id: str, pool: str, *, force: bool = False, tx: Executor | None = None) -> None:
        """Enqueue inside ``tx`` (the journal row's transaction); refuses new work past ``max_size`` waiting."""
        if not isinstance(tx, PgExecutor):
            raise TypeError("the shared queue enqueues inside the journal's PostgreSQL transaction")
        if not force:
            row = await tx.fetch_one("SELECT COUNT(*) AS n FROM procrastinate_jobs WHERE queue_name = ?"
                                     " AND status = 'todo'", (pool,))
            if row is not None and int(row["n"]) >= self.max_size:
                raise RateLimited(30, BUSY)
        deferrer = self.app.configure_task(TASK, queue=pool, lock=job_id, queueing_lock=job_id,
                                           connection=tx.connection)
        with contextlib.suppress(AlreadyEnqueued):  # resumed twice: once in the line is enough
            await deferrer.defer_async(job_id=job_id)
        self._waiting.setdefault(pool, []).append(job_id)

    async def get(self, pool: str) -> str:
        raise NotImplementedError("workers take shared jobs through procrastinate (studiobot worker)")

    def position(self, job_id: str) -> int | None:
        for line in self._waiting.values():
            if job_id in line:
                return line.index(job_id) + 1
        return None

    def waiting(self, pool: str) -> list[str]:
        return list(self._waiting.get(pool, ()))

    async def remove(self, job_id: str) -> bool:
        """Cancel a job nobody has started; False if it is running (``abort`` it) or gone."""
        found = await self._entry(job_id, "todo")
        if found is None:
            return False
        cancelled = await self.app.job_manager.cancel_job_by_id_async(found, delete_job=True)
        for line in self._waiting.values():
            if job_id in line:
                line.remove(job_id)
        return cancelled

    async def abort(self, job_id: str) -> bool:
        """Ask whichever worker runs the job to stop it (procrastinate cancels its asyncio task there)."""
        found = await self._entry(job_id, "doing")
        return found is not None and await self.app.job_manager.cancel_job_by_id_async(found, abort=True)

    async def holds(self, job_id: str) -> bool:
        """Whether the job is still waiting or running (a worker will finish and deliver it)."""
        return await self._entry(job_id, "todo") is not None or await self._entry(job_id, "doing") is not None

    async def refresh(self) -> dict[str, list[str]]:
        """Read every pool's waiting line (oldest first, as workers take them) into the position cache."""
        rows = await self.app.connector.execute_query_all_async(
            "SELECT queue_name, queueing_lock FROM procrastinate_jobs WHERE status = 'todo' AND task_name = %(t)s"
            " ORDER BY priority DESC, id", t=TASK)
        lines: dict[str, list[str]] = {}
        for row in rows:
            lines.setdefault(row["queue_name"], []).append(row["queueing_lock"])
        self._waiting = lines
        return lines

    async def _entry(self, job_id: str, status: str) -> int | None:
        """procrastinate's id for a job: waiting ones by queueing lock, running ones by lock (both indexed)."""
        rows = await self.app.connector.execute_query_all_async(
            "SELECT id FROM procrastinate_jobs WHERE status = %(s)s"
            " AND ((status = 'todo' AND queueing_lock = %(j)s) OR (status = 'doing' AND lock = %(j)s))",
            j=job_id, s=status)
        return int(rows[0]["id"]) if rows else None

    # -- workers -------------------------------------------------------------------------------------------

    async def work(self, run_job: RunJob, *, queues: Iterable[str], concurrency: int, heartbeat_s: float,
                   grace_s: float, name: str = "worker") -> None:
        """Run jobs until cancelled; a graceful stop lets running jobs finish for ``grace_s`` first.

        The stop goes through procrastinate's ``Worker.stop`` (repeated until it is heard) rather than by
        cancelling its task: a cancellation landing while the worker registers itself can be swallowed on
        the way, and the worker then runs on.
        """
        self._run_job = run_job
        worker = Worker(
            app=self.app, queues=list(queues), concurrency=concurrency, name=name, install_signal_handlers=False,
            update_heartbeat_interval=heartbeat_s, stalled_worker_timeout=heartbeat_s * 3,
            shutdown_graceful_timeout=grace_s, delete_jobs="successful", listen_notify=True,
            fetch_job_polling_interval=max(heartbeat_s, 1.0), abort_job_polling_interval=max(heartbeat_s, 1.0),
        )
        running = asyncio.create_task(worker.run(), name=f"procrastinate-{name}")  # type: ignore[no-untyped-call]
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            while not running.done():
                worker.stop()  # type: ignore[no-untyped-call]
                await asyncio.wait({running}, timeout=0.5)
            raise

    async def retry_stalled(self, stale_s: float) -> int:
        """Put back in line the jobs of workers whose heartbeat went stale (a SIGKILL, a lost machine)."""
        manager = self.app.job_manager
        retried = 0
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stale_s, task_name=TASK):
            try:
                await manager.retry_job(job)
            except Exception:  # another worker retried it a moment ago
                log.debug("stalled job %s was already retried", job.id, exc_info=True)
                continue
            retried += 1
            log.info("retrying job %s of a worker that stopped answering", job.task_kwargs.get("job_id"))
        return retried

    async def _task(self, context: JobContext, job_id: str) -> None:
        if self._run_job is None:
            raise RuntimeError("this process runs no workers")
        await self._run_job(job_id, lambda: context.abort_reason() is AbortReason.USER_REQUEST)
