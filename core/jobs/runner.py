"""Runs journaled jobs in bounded worker pools and hands each outcome to one at-least-once delivery.

Order of writes, so a crash at any point is recoverable:
  add (queued, leased to this process) -> start (running, attempts+1) -> result file -> finish (terminal)
  -> claim delivery (delivering) -> [reconcile] -> post -> delivered | undeliverable
A heartbeat renews this process's leases. At start (and on every heartbeat) jobs whose lease expired
(or whose owner is known dead) are taken over: unfinished ones queued again, undelivered ones delivered,
``delivering`` ones reconciled with the platform first. A graceful stop lets running jobs finish within
the grace period, then releases the rest, which does not count as a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from core.errors import JobCancelled, StudioError, restore_error
from core.jobs.deliverer import Deliverer, Outcome
from core.jobs.delivery import DeliveryHook, Reply
from core.jobs.files import ResultStore
from core.jobs.journal import Journal
from core.jobs.leases import Lease, owner_is_dead
from core.jobs.model import Delivery, Job, JobState, Progress
from core.jobs.progress import ProgressPublisher
from core.jobs.queue import JobQueue
from core.results import Result
from core.tasks import TaskOwner

log = logging.getLogger(__name__)

Execute = Callable[[Job], Awaitable[Result]]
MAX_ATTEMPTS = 3  # a job that crashed the process this often is failed, not retried forever
REPEATED = "This request failed repeatedly, so it was stopped."
STOPPING = "The studio is restarting. Please try again in a minute."


@dataclass
class Live:
    """Everything in memory about one job; created in ``_live_for`` and dropped in ``_drop``, nowhere else."""

    job_id: str
    platform: str
    reply: Reply | None = None
    task: asyncio.Task[None] | None = None
    watchers: list[asyncio.Queue[Progress]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    delivery: asyncio.Task[bool] | None = None  # this process's delivery of the outcome, once begun
    cancelled: bool = False
    settled: bool = False  # terminal and its delivery over (or nobody here to deliver it)


class JobRunner:
    """Runs jobs in this process's pools. ``SharedJobRunner`` (core/jobs/shared_runner.py) is the scaled-out kind."""

    shared = False

    def __init__(self, journal: Journal, queue: JobQueue, results: ResultStore, execute: Execute,
                 pools: dict[str, int], *, lease_s: float = 30.0, progress_interval_s: float = 2.0,
                 delivery_deadline_s: float = 600.0) -> None:
        self.journal = journal
        self.queue = queue
        self.results = results
        self.lease = Lease(lease_s)
        self._execute = execute
        self._pools = pools
        self._progress_interval_s = progress_interval_s
        self._hooks: dict[str, DeliveryHook] = {}
        self._live: dict[str, Live] = {}
        self._publishers: dict[str, ProgressPublisher] = {}
        self._deliverer = Deliverer(journal, delivery_deadline_s)
        self._idle: dict[str, int] = dict.fromkeys(pools, 0)  # workers waiting for a job, per pool
        self._accepting = True
        self._tasks = TaskOwner("jobs")
        self._deliveries = TaskOwner("deliveries")

    # -- lifecycle -----------------------------------------------------------------------------------------

    def register(self, hook: DeliveryHook) -> None:
        self._hooks[hook.platform] = hook

    def background(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run ``coro`` until the runner stops (retention, for instance)."""
        self._tasks.spawn(coro, name=name)

    async def start(self, *, resume: bool = True) -> None:
        """Start the pools and the heartbeat; with ``resume``, take over what other processes left behind."""
        for pool, size in self._pools.items():
            for n in range(size):
                self._tasks.spawn(self._worker(pool), name=f"worker-{pool}-{n}")
        if resume:
            await self.resume()
        self._tasks.spawn(self._heartbeat(sweep=resume), name="heartbeat")

    async def resume(self) -> None:
        dead = [o for o in await self.journal.owners() if owner_is_dead(o)]
        for job in await self.journal.take_over(self.lease.owner, self.lease.until(), dead=dead):
            await self._adopt(job)

    async def _adopt(self, job: Job) -> None:
        if job.state.terminal:
            self._spawn_delivery(job, None, reconcile_first=job.delivery is Delivery.DELIVERING)
            return
        self._live_for(job.id, job.origin.platform)
        if job.attempts >= MAX_ATTEMPTS:
            await self._finish(job, JobState.FAILED, error=StudioError(REPEATED))
            return
        await self.journal.requeue(job.id)
        await self.queue.put(job.id, job.pool, force=True)  # accepted long ago: a full queue must not refuse it
        log.info("resumed job %s (%s, attempt %d)", job.id, job.kind, job.attempts + 1)

    async def _heartbeat(self, *, sweep: bool) -> None:
        while True:
            await asyncio.sleep(self.lease.heartbeat_s)
            try:
                await self.journal.heartbeat(self.lease.owner, self.lease.until())
                if sweep and self._accepting:
                    await self.resume()
            except Exception:
                log.exception("lease heartbeat failed")

    async def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop intake; running jobs and posts under way get ``grace_s`` to finish; release the rest."""
        self._accepting = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        while (pending := self._running() + self._deliveries.pending()) and (left := deadline - loop.time()) > 0:
            await asyncio.wait(pending, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        await self._tasks.close()
        await self._deliveries.close()
        for publisher in self._publishers.values():
            await publisher.close()
        with contextlib.suppress(Exception):
            released = await self.journal.release(self.lease.owner)
            if released:
                log.info("released %d unfinished jobs for the next start", released)
        self._live.clear()

    @staticmethod
    def _stopping() -> bool:
        task = asyncio.current_task()
        return task is not None and task.cancelling() > 0

    def _running(self) -> list[asyncio.Task[Any]]:
        return [live.task for live in self._live.values() if live.task is not None and not live.task.done()]

    # -- API used by the studio ---------------------------------------------------------------------------

    async def submit(self, job: Job, reply: Reply | None = None) -> Job:
        if not self._accepting:
            raise StudioError(STOPPING)
        job = dataclasses.replace(job, owner=self.lease.owner, lease_until=self.lease.until())
        await self.journal.add(job)
        live = self._live_for(job.id, job.origin.platform, reply)
        try:
            await self.queue.put(job.id, job.pool)
        except StudioError as err:
            # Refused at the door: the caller shows the refusal once; nothing is left to deliver, ever.
            await self.journal.finish(job.id, JobState.FAILED, error_code=err.record, error=err.user_message)
            await self.journal.mark_delivered(job.id)
            live.settled = True
            self._drop(live)
            raise
        self._publish_positions(job.pool)
        return job

    async def wait(self, job_id: str) -> Job:
        """The job once terminal (the handle is set up before the state is read, so no finish is missed)."""
        job = await self.journal.get(job_id)
        if job is None:
            raise KeyError(job_id)
        live = self._live.get(job_id)
        if not job.state.terminal and live is not None:
            await live.done.wait()
            job = await self.journal.get(job_id)
            assert job is not None
        return job

    async def watch(self, job_id: str) -> AsyncIterator[Progress]:
        """Progress events for one job, ending with its terminal state."""
        live = self._live.get(job_id)
        queue: asyncio.Queue[Progress] = asyncio.Queue()
        if live is not None:
            live.watchers.append(queue)
        try:
            job = await self.journal.get(job_id)
            if job is None:
                return
            if job.state.terminal or live is None:
                yield Progress(job_id, job.state, message=job.error or "")
                return
            yield Progress(job_id, job.state, self.queue.position(job_id))
            while True:
                event = await queue.get()
                yield event
                if event.state.terminal:
                    return
        finally:
            if live is not None:
                live.watchers.remove(queue)
                self._drop(live)

    async def report(self, job_id: str, message: str) -> None:
        """A running job's own progress (e.g. "part 3 of 7"), to its reply and watchers."""
        self._publish(Progress(job_id, JobState.RUNNING, message=message))

    async def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; returns False if it already ended."""
        job = await self.journal.get(job_id)
        live = self._live.get(job_id)
        if job is None or job.state.terminal or live is None:
            return False
        live.cancelled = True  # a worker that already dequeued it sees this before it starts
        if await self.queue.remove(job_id):
            await self._finish(job, JobState.CANCELLED, error=JobCancelled())
            self._publish_positions(job.pool)
        elif live.task is not None:
            live.task.cancel()
        return True

    # -- live handles ----------------------------------------------------------------------------------------

    def _live_for(self, job_id: str, platform: str, reply: Reply | None = None) -> Live:
        live = self._live.get(job_id)
        if live is None:
            live = self._live[job_id] = Live(job_id, platform, reply)
        elif reply is not None:
            live.reply = reply
        return live

    def _drop(self, live: Live) -> None:
        if live.settled and not live.watchers and live.task is None:
            self._live.pop(live.job_id, None)

    # -- internals -------------------------------------------------------------------------------------------

    async def _worker(self, pool: str) -> None:
        while self._accepting:
            self._idle[pool] += 1
            try:
                job_id = await self.queue.get(pool)
            finally:
                self._idle[pool] -= 1
            live = self._live.get(job_id)
            if live is None:
                continue  # not ours any more
            if not self._accepting:
                return  # stopping: it stays queued in the journal and its lease is released
            self._publish_positions(pool)
            if live.cancelled:
                await self._cancelled(job_id)
                continue
            live.task = asyncio.create_task(self._run(job_id, live), name=f"{pool}-{job_id}")
            try:
                await asyncio.shield(live.task)
            except asyncio.CancelledError:
                if not self._stopping():
                    continue  # only the job was cancelled, and it has ended itself
                # The worker is stopping: interrupt the job, which stays 'running' until released or resumed.
                live.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await live.task
                raise
            except Exception:  # the journal failed: the job keeps its last state and lease, so it resumes later
                log.exception("job %s stopped on a journal error", job_id)
            finally:
                live.task = None
                self._drop(live)

    async def _cancelled(self, job_id: str) -> None:
        job = await self.journal.get(job_id)
        if job is not None and not job.state.terminal:
            await self._finish(job, JobState.CANCELLED, error=JobCancelled())

    async def _run(self, job_id: str, live: Live) -> None:
        try:
            job = await self.journal.start(job_id, owner=self.lease.owner if self.shared else None)
            self._publish(Progress(job.id, JobState.RUNNING, message="generating"))
            if live.cancelled:
                raise asyncio.CancelledError
            result = await self._execute(job)
            ref = await asyncio.to_thread(self.results.save, job.id, result)
        except asyncio.CancelledError:
            if live.cancelled:  # the user cancelled (even while the job was only being marked running)
                await asyncio.shield(self._cancelled(job_id))
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
            self._publish(Progress(job.id, JobState.DONE), delivers=self._delivers_here(done))
            self._spawn_delivery(done, result)

    async def _finish(self, job: Job, state: JobState, *, error: StudioError) -> None:
        done = await self.journal.finish(job.id, state, error_code=error.record, error=error.user_message)
        self._publish(Progress(job.id, state, message=error.user_message), delivers=self._delivers_here(done))
        self._spawn_delivery(done, error)

    def _delivers_here(self, job: Job) -> bool:
        """Whether this process can post the outcome (a live reply here, or the platform's hook)."""
        live = self._live.get(job.id)
        return (live is not None and live.reply is not None) or job.origin.platform in self._hooks

    def _spawn_delivery(self, job: Job, outcome: Outcome | None, *, reconcile_first: bool = False) -> None:
        task = self._deliveries.spawn(self._deliver(job, outcome, reconcile_first), name=f"deliver-{job.id}")
        if (live := self._live.get(job.id)) is not None:
            live.delivery = task

    async def _deliver(self, job: Job, outcome: Outcome | None, reconcile_first: bool) -> bool:
        """Post the outcome unless another attempt has claimed it; True if this call saw delivery through."""
        live = self._live.get(job.id)
        publisher = self._publishers.get(job.origin.platform)
        if publisher is not None:
            publisher.forget(job.id)
        try:
            hook = self._hooks.get(job.origin.platform)
            reply = live.reply if live is not None and live.reply is not None else None
            if reply is None and hook is None:
                return False  # stays pending until that platform's adapter runs
            if not reconcile_first and not await self.journal.claim_delivery(job.id):
                return False
            if reply is None:
                assert hook is not None
                reply = hook.reply_for(job)
                # The request outlived its process: ask the platform first (it also tidies what that process
                # left, such as a status message), then post only what is missing.
                reconcile_first = True
            if outcome is None:
                outcome = await self._outcome_of(job)
            await self._deliverer.deliver(job, outcome, reply, hook, reconcile_first=reconcile_first)
            return True
        finally:
            if live is not None:
                live.settled = True
                self._drop(live)

    async def _outcome_of(self, job: Job) -> Outcome:
        if job.state is JobState.DONE and job.result is not None:
            try:
                return await asyncio.to_thread(self.results.load, job.result)
            except OSError:
                log.exception("result file of job %s is missing", job.id)
                return StudioError("The result of this request was lost. Please try again.")
        return restore_error(job.error_code, job.error)

    def _publish(self, event: Progress, *, delivers: bool = False, here_only: bool = False) -> None:
        """Watchers get every event at once; the platform gets the coalesced few, from its publisher.

        ``delivers`` (this process posts the outcome) and ``here_only`` (news from elsewhere, or queue
        positions) matter only to the scaled-out runner, which also tells other processes.
        """
        live = self._live.get(event.job_id)
        if live is None:
            return
        if live.reply is not None:
            publisher = self._publishers.get(live.platform)
            if publisher is None:
                publisher = self._publishers[live.platform] = ProgressPublisher(live.platform,
                                                                                self._progress_interval_s)
            publisher.offer(live.reply, event)
        for q in live.watchers:
            q.put_nowait(event)
        if event.state.terminal:
            live.done.set()

    def _publish_positions(self, pool: str) -> None:
        """Tell waiting jobs their place; a job an idle worker is about to take is not 'queued' to anyone."""
        for n, job_id in enumerate(self.queue.waiting(pool)[self._idle.get(pool, 0):], start=1):
            live = self._live.get(job_id)
            if live is not None and (live.reply is not None or live.watchers):
                self._publish(Progress(job_id, JobState.QUEUED, n), here_only=True)

    def progress_calls(self) -> int:
        """Progress calls made to platforms so far (measurements)."""
        return sum(p.calls for p in self._publishers.values())
