"""Runs journaled jobs in bounded worker pools and hands each outcome to exactly one delivery.

Order of writes, so a crash at any point is recoverable:
  add (queued) -> start (running, attempts+1) -> result file -> finish (terminal)
  -> claim delivery (delivering) -> post -> delivered
On start, queued/running jobs are queued again and finished-but-undelivered ones delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from core.errors import JobCancelled, StudioError, restore_error
from core.jobs.delivery import DeliveryHook, Reply
from core.jobs.files import ResultStore
from core.jobs.journal import Journal
from core.jobs.model import Delivery, Job, JobState, Progress
from core.jobs.queue import JobQueue
from core.results import Result
from core.tasks import TaskOwner

log = logging.getLogger(__name__)

Execute = Callable[[Job], Awaitable[Result]]
MAX_ATTEMPTS = 3  # a job that crashed the process this often is failed, not retried forever


@dataclass
class _Watchers:
    queues: list[asyncio.Queue[Progress]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class JobRunner:
    def __init__(self, journal: Journal, queue: JobQueue, results: ResultStore, execute: Execute,
                 pools: dict[str, int]) -> None:
        self.journal = journal
        self.queue = queue
        self.results = results
        self._execute = execute
        self._pools = pools
        self._hooks: dict[str, DeliveryHook] = {}
        self._live: dict[str, Reply] = {}
        self._watchers: dict[str, _Watchers] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()
        self._idle: dict[str, int] = dict.fromkeys(pools, 0)  # workers waiting for a job, per pool
        self._tasks = TaskOwner("jobs")
        self._deliveries = TaskOwner("deliveries")

    # -- lifecycle -----------------------------------------------------------------------------------------

    def register(self, hook: DeliveryHook) -> None:
        self._hooks[hook.platform] = hook

    async def start(self, *, resume: bool = True) -> None:
        """Start the pools; with ``resume``, pick up what a previous process left behind."""
        for pool, size in self._pools.items():
            for n in range(size):
                self._tasks.spawn(self._worker(pool), name=f"worker-{pool}-{n}")
        if resume:
            await self.resume()

    async def resume(self) -> None:
        for job in await self.journal.undelivered(self._hooks):
            if job.delivery is Delivery.DELIVERING:
                # The post may or may not have happened: at most once wins over at least once.
                log.warning("job %s was mid-delivery at the last stop; not posting it again", job.id)
                await self.journal.mark_delivered(job.id)
            else:
                self._deliveries.spawn(self._deliver(job), name=f"deliver-{job.id}")
        for job in await self.journal.unfinished():
            if job.attempts >= MAX_ATTEMPTS:
                err = StudioError("This request failed repeatedly, so it was stopped.")
                await self._finish(job, JobState.FAILED, error=err)
                continue
            await self.journal.requeue(job.id)
            await self.queue.put(job.id, job.pool)
            log.info("resumed job %s (%s, attempt %d)", job.id, job.kind, job.attempts + 1)

    async def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop workers (running jobs stay 'running' and resume next start); let posts under way finish."""
        await self._tasks.close()
        await self._deliveries.drain(grace_s)

    # -- API used by the studio ---------------------------------------------------------------------------

    async def submit(self, job: Job, reply: Reply | None = None) -> Job:
        await self.journal.add(job)
        if reply is not None:
            self._live[job.id] = reply
        self._watchers.setdefault(job.id, _Watchers())
        try:
            await self.queue.put(job.id, job.pool)
        except StudioError as err:
            self._live.pop(job.id, None)
            await self.journal.finish(job.id, JobState.FAILED, error_code=err.record, error=err.user_message)
            raise
        await self._publish_positions(job.pool)
        return job

    async def wait(self, job_id: str) -> Job:
        """The job once terminal (the watcher is set up before the state is read, so no finish is missed)."""
        watchers = self._watchers.setdefault(job_id, _Watchers())
        job = await self.journal.get(job_id)
        if job is None:
            raise KeyError(job_id)
        if not job.state.terminal:
            await watchers.done.wait()
            job = await self.journal.get(job_id)
            assert job is not None
        return job

    async def watch(self, job_id: str) -> AsyncIterator[Progress]:
        """Progress events for one job, ending with its terminal state."""
        watchers = self._watchers.setdefault(job_id, _Watchers())
        queue: asyncio.Queue[Progress] = asyncio.Queue()
        watchers.queues.append(queue)
        try:
            job = await self.journal.get(job_id)
            if job is None:
                return
            if job.state.terminal:
                yield Progress(job_id, job.state, message=job.error or "")
                return
            yield Progress(job_id, job.state, self.queue.position(job_id))
            while True:
                event = await queue.get()
                yield event
                if event.state.terminal:
                    return
        finally:
            watchers.queues.remove(queue)

    async def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; returns False if it already ended."""
        job = await self.journal.get(job_id)
        if job is None or job.state.terminal:
            return False
        self._cancelled.add(job_id)
        if await self.queue.remove(job_id):
            await self._finish(job, JobState.CANCELLED, error=JobCancelled())
            await self._publish_positions(job.pool)
            return True
        task = self._running.get(job_id)
        if task is not None:
            task.cancel()
        return True

    # -- internals -------------------------------------------------------------------------------------------

    async def _worker(self, pool: str) -> None:
        while True:
            self._idle[pool] += 1
            try:
                job_id = await self.queue.get(pool)
            finally:
                self._idle[pool] -= 1
            await self._publish_positions(pool)
            task = asyncio.create_task(self._run(job_id), name=pool)
            self._running[job_id] = task
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                # The worker is stopping: interrupt the job, which stays 'running' and resumes next start.
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise
            finally:
                self._running.pop(job_id, None)

    async def _run(self, job_id: str) -> None:
        job = await self.journal.start(job_id)
        await self._publish(Progress(job.id, JobState.RUNNING, message="generating"))
        try:
            result = await self._execute(job)
            ref = await asyncio.to_thread(self.results.save, job.id, result)
        except asyncio.CancelledError:
            if job_id in self._cancelled:
                await asyncio.shield(self._finish(job, JobState.CANCELLED, error=JobCancelled()))
                return
            raise
        except StudioError as err:
            log.info("job %s failed: %s (%s)", job.id, err.code, err.detail or err.user_message)
            await asyncio.shield(self._finish(job, JobState.FAILED, error=err))
        except (Exception, SystemExit):  # SystemExit: a library in a worker thread must not end the process
            log.exception("job %s crashed", job.id)
            await asyncio.shield(self._finish(job, JobState.FAILED, error=StudioError()))
        else:
            done = await asyncio.shield(self.journal.finish(job.id, JobState.DONE, result=ref))
            await self._publish(Progress(job.id, JobState.DONE))
            self._deliveries.spawn(self._deliver(done, result), name=f"deliver-{job.id}")

    async def _finish(self, job: Job, state: JobState, *, error: StudioError) -> None:
        done = await self.journal.finish(job.id, state, error_code=error.record, error=error.user_message)
        await self._publish(Progress(job.id, state, message=error.user_message))
        self._deliveries.spawn(self._deliver(done, error), name=f"deliver-{job.id}")

    async def _deliver(self, job: Job, outcome: Result | StudioError | None = None) -> None:
        reply = self._live.pop(job.id, None)
        if reply is None:
            hook = self._hooks.get(job.origin.platform)
            if hook is None:
                return  # stays pending until that platform's adapter runs
            reply = hook.reply_for(job)
        if not await self.journal.claim_delivery(job.id):
            return
        if outcome is None:
            outcome = await self._outcome_of(job)
        try:
            if isinstance(outcome, StudioError):
                ref = await reply.fail(job, outcome)
            else:
                ref = await reply.post(job, outcome)
        except Exception:
            log.exception("delivering job %s failed", job.id)
            ref = None
        await self.journal.mark_delivered(job.id, ref)
        self._forget(job.id)

    async def _outcome_of(self, job: Job) -> Result | StudioError:
        if job.state is JobState.DONE and job.result is not None:
            try:
                return await asyncio.to_thread(self.results.load, job.result)
            except OSError:
                log.exception("result file of job %s is missing", job.id)
                return StudioError("The result of this request was lost. Please try again.")
        return restore_error(job.error_code, job.error)

    async def _publish(self, event: Progress) -> None:
        reply = self._live.get(event.job_id)
        if reply is not None:
            try:
                await reply.progress(event)
            except Exception:
                log.warning("progress update for job %s failed", event.job_id, exc_info=True)
        watchers = self._watchers.get(event.job_id)
        if watchers is not None:
            for q in watchers.queues:
                q.put_nowait(event)
            if event.state.terminal:
                watchers.done.set()

    async def _publish_positions(self, pool: str) -> None:
        """Tell waiting jobs their place; a job an idle worker is about to take is not 'queued' to anyone."""
        for n, job_id in enumerate(self.queue.waiting(pool)[self._idle.get(pool, 0):], start=1):
            if job_id in self._live or self._watchers.get(job_id, _Watchers()).queues:
                await self._publish(Progress(job_id, JobState.QUEUED, n))

    def _forget(self, job_id: str) -> None:
        watchers = self._watchers.get(job_id)
        if watchers is not None and not watchers.queues:
            self._watchers.pop(job_id, None)
        self._cancelled.discard(job_id)
