"""The runner when Studiobot is scaled out: jobs run in ``studiobot worker``s, news travels by LISTEN/NOTIFY.

A front end takes the command: it writes the journal row and the procrastinate entry in one transaction,
keeps the live reply (interaction token, status message) in memory, shows queue positions read from the
shared queue, and hears each job's news from the bus. A worker runs the job (``run_one``) and delivers it
through the platform's REST API with the delivery hooks, then says so on the bus; the front end then
tidies what only it can (``Reply.handed_off``). When no worker can post for that platform (the playground,
the CLI), the front end holding the job delivers it itself: the journal's delivery claim keeps it to one.

procrastinate owns running and recovery here: a dead worker's jobs are retried after its heartbeat goes
stale (``core/jobs/worker.py``), so this runner keeps no leases and never resumes jobs itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable

from core.db import Executor
from core.errors import JobCancelled, StudioError
from core.jobs.bus import Notice, NoticeBus
from core.jobs.deliverer import Outcome
from core.jobs.delivery import Reply
from core.jobs.files import ResultStore
from core.jobs.journal import Journal
from core.jobs.model import Delivery, Job, JobState, Progress
from core.jobs.runner import MAX_ATTEMPTS, REPEATED, STOPPING, Execute, JobRunner, Live
from core.jobs.shared import SharedQueue

log = logging.getLogger(__name__)
HAND_OVER_S = 3.0  # how long a worker leaves a failure to the front end holding the command


class SharedJobRunner(JobRunner):
    shared = True

    def __init__(self, journal: Journal, queue: SharedQueue, results: ResultStore, execute: Execute,
                 pools: dict[str, int], bus: NoticeBus, **options: float) -> None:
        super().__init__(journal, queue, results, execute, pools, **options)
        self.shared_queue = queue
        self.bus = bus
        self._positions_due = asyncio.Event()

    async def start(self, *, resume: bool = True) -> None:
        """Listen for the news of the jobs held here (``resume=False``: a worker only, nothing to hear)."""
        if resume:
            self.background(self.bus.listen(self._on_notice, self._catch_up), "notices-in")
            self.background(self._positions_forever(), "positions")
            await self._deliver_left_behind()

    async def _deliver_left_behind(self) -> None:
        """Outcomes nobody is delivering: ended where no hook could post them, or whose queue entry is gone
        while a post was under way. The delivery claim (or the reconcile) keeps each to one post."""
        for job in await self.journal.undelivered(tuple(self._hooks)):
            if job.delivery is Delivery.DELIVERING and await self.shared_queue.holds(job.id):
                continue  # its worker is posting it now, or procrastinate will retry that worker's job
            self._live_for(job.id, job.origin.platform)
            self._spawn_delivery(job, None, reconcile_first=job.delivery is Delivery.DELIVERING)

    async def stop(self, *, grace_s: float = 10.0) -> None:
        await super().stop(grace_s=grace_s)
        await self.bus.close()

    async def submit(self, job: Job, reply: Reply | None = None) -> Job:
        """The row and its queue entry in one transaction; a full queue rolls both back."""
        if not self._accepting:
            raise StudioError(STOPPING)
        await self.journal.add(job, enqueue=functools.partial(self._enqueue, job))
        self._live_for(job.id, job.origin.platform, reply)
        self._positions_due.set()
        return job

    async def _enqueue(self, job: Job, tx: Executor) -> None:
        await self.shared_queue.put(job.id, job.pool, tx=tx)

    async def wait(self, job_id: str) -> Job:
        async for _ in self.watch(job_id):
            pass
        job = await self.journal.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def watch(self, job_id: str) -> AsyncIterator[Progress]:
        if job_id not in self._live:  # running elsewhere: follow its news (nothing to deliver from here)
            self._live_for(job_id, "").settled = True
        return super().watch(job_id)

    async def cancel(self, job_id: str) -> bool:
        """A waiting job is taken out of line here; a running one is aborted wherever it runs."""
        live = self._live.get(job_id)
        if live is not None and live.task is not None:
            return await super().cancel(job_id)  # running in this very process (run --with-workers)
        job = await self.journal.get(job_id)
        if job is None or job.state.terminal:
            return False
        if await self.shared_queue.remove(job.id):
            await self._finish(job, JobState.CANCELLED, error=JobCancelled())
            self._positions_due.set()
            return True
        return await self.shared_queue.abort(job.id)

    # -- in a worker -----------------------------------------------------------------------------------------

    async def run_one(self, job_id: str, user_aborted: Callable[[], bool] = lambda: False) -> None:
        """One job of the shared queue: run it (unless it already ended), then deliver it.

        Returns once its delivery is over, so a worker that dies at any point leaves a queue entry that
        procrastinate retries, and the retry picks up where the journal says. A cancellation is either a
        user's abort (the job ends cancelled) or the worker stopping (the job goes back in line and the
        cancellation goes on, so procrastinate retries it).
        """
        job = await self.journal.get(job_id)
        if job is None:
            return  # deleted meanwhile (/forget-me)
        live = self._live_for(job.id, job.origin.platform)
        try:
            if job.state.terminal:
                if not job.delivery.final:  # the last worker died after the end, before its post was done
                    self._spawn_delivery(job, None, reconcile_first=job.delivery is Delivery.DELIVERING)
            elif job.attempts >= MAX_ATTEMPTS:
                await self._finish(job, JobState.FAILED, error=StudioError(REPEATED))
            else:
                await self._run_here(job, live, user_aborted)
            if live.delivery is not None:
                await asyncio.shield(live.delivery)
        finally:
            live.settled = True
            self._drop(live)

    async def _run_here(self, job: Job, live: Live, user_aborted: Callable[[], bool]) -> None:
        live.task = task = asyncio.create_task(self._run(job.id, live), name=f"{job.pool}-{job.id}")
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            live.cancelled = live.cancelled or user_aborted()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if not live.cancelled:  # the worker is stopping: back in line for the next worker
                await asyncio.shield(self.journal.requeue(job.id, crashed=False))
                raise
            await asyncio.shield(self._cancelled(job.id))  # ended already, unless it was stopped before it began
        finally:
            live.task = None

    # -- news ------------------------------------------------------------------------------------------------

    def _publish(self, event: Progress, *, delivers: bool = False, here_only: bool = False) -> None:
        """A job's own news also goes on the bus; queue positions do not (each front end reads its own)."""
        if not here_only and event.state is not JobState.QUEUED:
            self.bus.offer(Notice(event.job_id, event.state, self.lease.owner, event.message, delivers=delivers))
            self._positions_due.set()  # started or ended here: the positions behind it moved
        super()._publish(event, delivers=delivers, here_only=here_only)

    def _delivers_here(self, job: Job) -> bool:
        """A worker leaves failures to the front end holding the command, which can tell the user privately."""
        live = self._live.get(job.id)
        if live is not None and live.reply is not None:
            return True
        return job.state is JobState.DONE and job.origin.platform in self._hooks

    async def _deliver(self, job: Job, outcome: Outcome | None, reconcile_first: bool) -> bool:
        live = self._live.get(job.id)
        if job.state is not JobState.DONE and not reconcile_first and (live is None or live.reply is None):
            # A failure or a cancellation: the front end holding the command (an ephemeral note on Discord)
            # claims it first if it is there; if nobody did after a moment, post it from here.
            await asyncio.sleep(HAND_OVER_S)
        delivered = await super()._deliver(job, outcome, reconcile_first)
        if delivered:  # the front end holding the command may tidy up now
            self.bus.offer(Notice(job.id, job.state, self.lease.owner, settled=True))
        return delivered

    def _on_notice(self, notice: Notice) -> None:
        if notice.by == self.lease.owner:
            return
        if notice.state is not JobState.QUEUED:
            self._positions_due.set()  # a job left its line: the positions behind it moved
        live = self._live.get(notice.job_id)
        if live is None or live.task is not None:
            return
        if notice.settled:
            self._deliveries.spawn(self._handed_off(live), name=f"handed-off-{notice.job_id}")
            return
        self._publish(notice.progress, here_only=True)
        if notice.state.terminal and not notice.delivers and not live.settled:
            self._deliveries.spawn(self._deliver_here(notice.job_id), name=f"deliver-{notice.job_id}")

    async def _catch_up(self) -> None:
        """After (re)connecting to the bus: the news of held jobs that ended while nobody listened."""
        for live in list(self._live.values()):
            if live.task is not None or live.settled:
                continue
            job = await self.journal.get(live.job_id)
            if job is None or not job.state.terminal:
                continue
            self._publish(Progress(job.id, job.state, message=job.error or ""), here_only=True)
            if job.delivery.final:
                await self._handed_off(live)
            else:
                await self._deliver_here(job.id)

    async def _handed_off(self, live: Live) -> None:
        """Another process delivered the outcome: let the reply tidy what only this process can."""
        if live.settled:
            return
        live.settled = True
        try:
            job = await self.journal.get(live.job_id)
            if job is not None and live.reply is not None:
                await live.reply.handed_off(job)
        except Exception:
            log.info("tidying job %s after its delivery elsewhere failed", live.job_id, exc_info=True)
        finally:
            self._drop(live)

    async def _deliver_here(self, job_id: str) -> None:
        job = await self.journal.get(job_id)
        if job is not None and job.state.terminal and not job.delivery.final:
            await self._deliver(job, None, reconcile_first=False)

    async def _positions_forever(self) -> None:
        """Read the shared lines when they moved and someone here waits, at most once per interval."""
        while True:
            await self._positions_due.wait()
            self._positions_due.clear()
            if any(live.task is None and (live.reply is not None or live.watchers) for live in self._live.values()):
                try:
                    await self.shared_queue.refresh()
                except Exception:
                    log.warning("could not read the queue's positions", exc_info=True)
                for pool in self._pools:
                    self._publish_positions(pool)
            await asyncio.sleep(self._progress_interval_s)
