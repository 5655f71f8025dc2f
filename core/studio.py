"""The façade every adapter calls: validate, journal, queue, generate, encode, deliver."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from core import drawing, speaking
from core.community.costs import metering
from core.community.members import HistoryPage, Members
from core.community.service import LOCAL_PLATFORMS, Community
from core.community.store import SqlCommunityStore
from core.db import Conflict, open_database
from core.errors import InputError, NotAllowed, QuotaExceeded, StudioError, restore_error
from core.feed import AudioFeed
from core.jobs import retention
from core.jobs.bus import NoticeBus
from core.jobs.delivery import DeliveryHook, Reply
from core.jobs.files import BlobStore, ResultStore, open_stores
from core.jobs.journal import Journal, SqlJournal
from core.jobs.model import Job, JobState, Progress, new_job_id
from core.jobs.queue import InProcessQueue, JobQueue
from core.jobs.runner import JobRunner

if TYPE_CHECKING:
    pass
from core.media import audio
from core.metrics import Metrics
from core.providers import make_provider
from core.providers.base import Provider
from core.requests import (
    ImagineRequest,
    Origin,
    Parent,
    Request,
    Requester,
    SpeakRequest,
    parents_of,
)
from core.results import ImageResult, Result
from core.settings import Settings
from core.validation import validate
from core.voices import Voice

log = logging.getLogger(__name__)
_ENDED_FEEDS = 256  # recently finished speech jobs, so a late listener gets None instead of a dead feed


class Studio:
    def __init__(self, provider: Provider, journal: Journal, queue: JobQueue, results: ResultStore,
                 pools: dict[str, int], community: Community, blobs: BlobStore, default_count: int = 1,
                 *, settings: Settings | None = None, max_speech_chars: int = 20_000,
                 bus: NoticeBus | None = None) -> None:
        self.provider = provider
        self.community = community
        self.metrics = Metrics()
        self.pools = dict(pools)
        self.default_count = default_count
        self.max_speech_chars = max_speech_chars
        self._feeds: dict[str, AudioFeed] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Job]] = {}
        self.journal = journal
        self.results = results
        self.members = Members(journal, community.store, results, blobs)
        s = settings or Settings(_env_file=None)
        self.shutdown_grace_s = s.shutdown_grace_s
        options = {"lease_s": s.lease_s, "progress_interval_s": s.progress_interval_s,
                   "delivery_deadline_s": s.delivery_deadline_s}
        self.runner: JobRunner
        if queue.shared:  # scaled out: procrastinate (imported only then) runs the jobs, in workers
            from core.jobs.shared import SharedQueue
            from core.jobs.shared_runner import SharedJobRunner

            assert isinstance(queue, SharedQueue) and bus is not None
            self.runner = SharedJobRunner(journal, queue, results, self._execute, pools, bus, **options)
        else:
            self.runner = JobRunner(journal, queue, results, self._execute, pools, **options)

    @property
    def offline(self) -> bool:
        return self.provider.offline

    def voices(self) -> tuple[Voice, ...]:
        return self.provider.voices()

    def register(self, hook: DeliveryHook) -> None:
        """Adapters register before ``start`` so jobs left from a previous run reach them."""
        self.runner.register(hook)

    async def start(self, *, resume: bool = True) -> None:
        await self.runner.start(resume=resume)

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop intake; running jobs and posts under way get the grace period; safe to call more than once."""
        await self.runner.stop(grace_s=self.shutdown_grace_s if grace_s is None else grace_s)
        for job_id in list(self._feeds):
            self._end_feed(job_id, complete=False)

    # -- submitting --------------------------------------------------------------------------------------

    async def submit(self, request: Request, requester: Requester, origin: Origin, *,
                     parent_id: str | None = None, reply: Reply | None = None,
                     dedupe_key: str | None = None) -> Job:
        """Validate, then journal and queue; raises InputError before anything is accepted.

        With ``dedupe_key`` (a platform's event or interaction id) a redelivered event returns the job
        the first delivery made, and nothing is generated twice, even across restarts.
        """
        if dedupe_key is None:
            return await self._accept(request, requester, origin, parent_id, reply, None)
        if (pending := self._inflight.get(dedupe_key)) is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Job] = asyncio.get_running_loop().create_future()
        self._inflight[dedupe_key] = future  # before any await, so a concurrent duplicate waits on it
        try:
            existing = await self.journal.find_by_key(dedupe_key)
            try:
                job = existing or await self._accept(request, requester, origin, parent_id, reply, dedupe_key)
            except Conflict:  # another process sharing the journal took the same event a moment ago
                job = await self._first_with(dedupe_key)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            self._inflight.pop(dedupe_key, None)
        future.set_result(job)
        return job

    async def _first_with(self, dedupe_key: str) -> Job:
        job = await self.journal.find_by_key(dedupe_key)
        if job is None:  # the other insert rolled back after all: nothing to point at
            raise StudioError()
        return job

    async def _accept(self, request: Request, requester: Requester, origin: Origin, parent_id: str | None,
                      reply: Reply | None, dedupe_key: str | None) -> Job:
        if isinstance(request, ImagineRequest) and request.count is None:
            request = dataclasses.replace(request, count=self.default_count)
        try:
            request = await validate(request, self.provider.limits, max_speech_chars=self.max_speech_chars)
            if parent_id is None and (parents := parents_of(request)):
                parent_id = parents[0].job_id  # chains, Retry and history follow the first parent
            job = Job(id=new_job_id(), request=request, requester=requester, origin=origin, parent_id=parent_id,
                      dedupe_key=dedupe_key)
            await self.community.admit(job.id, request, requester, origin)  # rules, then limits; counts it
        except StudioError as err:
            self.metrics.refused(refusal_reason(err))
            raise
        try:
            return await self.runner.submit(job, reply)
        except BaseException:
            await asyncio.shield(self.community.withdraw(job.id))
            raise

    async def run(self, request: Request, requester: Requester, origin: Origin, *,
                  parent_id: str | None = None, reply: Reply | None = None) -> Result:
        """Submit and wait: the result, or the job's error raised."""
        job = await self.submit(request, requester, origin, parent_id=parent_id, reply=reply)
        return await self.outcome(job.id)

    async def outcome(self, job_id: str) -> Result:
        job = await self.runner.wait(job_id)
        if job.state is JobState.DONE and job.result is not None:
            return await asyncio.to_thread(self.results.load, job.result)
        raise restore_error(job.error_code, job.error)

    def watch(self, job_id: str) -> AsyncIterator[Progress]:
        return self.runner.watch(job_id)

    async def cancel(self, job_id: str) -> bool:
        cancelled = await self.runner.cancel(job_id)
        feed = self._feeds.get(job_id)
        if cancelled and feed is not None and feed.parts == (0, 0):
            self._end_feed(job_id, complete=False)  # never started: nobody else will close it
        return cancelled

    async def audio_feed(self, job_id: str) -> AudioFeed | None:
        """The live audio of a queued or running speech job, to play before the file exists; None once the job
        is over (use its file) or for other jobs. Listeners read it from the start, so subscribing late is fine."""
        if (feed := self._feeds.get(job_id)) is not None:
            return feed
        if job_id in self._ended or self.runner.shared:  # scaled out, the audio is made in another process
            return None
        job = await self.journal.get(job_id)
        if job is None or job.state.terminal or job.kind != "speak" or job_id in self._ended:
            return None
        return self._feeds.setdefault(job_id, AudioFeed())

    def _end_feed(self, job_id: str, *, complete: bool) -> None:
        feed = self._feeds.pop(job_id, None)
        if feed is not None:
            feed.close(complete=complete)
        self._ended[job_id] = None
        while len(self._ended) > _ENDED_FEEDS:
            self._ended.popitem(last=False)

    async def job(self, job_id: str) -> Job | None:
        return await self.journal.get(job_id)

    async def job_for_message(self, platform: str, ref: str) -> Job | None:
        """The job whose result became this platform message: the parent of a chained edit."""
        return await self.journal.find_delivered(platform, ref)

    async def job_for_key(self, dedupe_key: str) -> Job | None:
        """The job an earlier delivery of the same platform event made, so a retry can be skipped cheaply."""
        return await self.journal.find_by_key(dedupe_key)

    def position(self, job_id: str) -> int | None:
        """1-based place in its pool's queue while the job waits."""
        return self.runner.queue.position(job_id)

    async def recent(self, platform: str, *, limit: int = 50, channel: str | None = None) -> list[Job]:
        return await self.journal.recent(platform, limit=limit, channel=channel)

    async def result_path(self, job: Job) -> Path | None:
        """The stored result file, for adapters that stream it instead of loading it (fetched off the loop)."""
        return None if job.result is None else await asyncio.to_thread(self.results.path, job.result)

    async def parents(self, job_id: str) -> list[Parent]:
        """Where a U/V/Upscale/Blend result came from (empty for anything drawn from scratch)."""
        return await self.journal.parents(job_id)

    async def candidate(self, job: Job, index: int | None) -> tuple[bytes, Parent]:
        """Grid cell ``index`` (1-based) of a finished job, or its whole image when ``index`` is None."""
        result = await self.result_of(job)
        if not isinstance(result, ImageResult):
            raise InputError("That image is no longer in my records.")
        if index is None:
            return result.data, Parent(job.id)
        if not 1 <= index <= len(result.candidates):
            raise InputError(f"That grid has no image {index}.")
        return result.candidates[index - 1], Parent(job.id, index)

    async def result_of(self, job: Job) -> Result | None:
        if job.result is None:
            return None
        return await asyncio.to_thread(self.results.load, job.result)

    # -- a member's records ---------------------------------------------------------------------------------

    async def history(self, requester: Requester, *, page: int = 0, per_page: int = 5,
                      workspace: str | None = None) -> HistoryPage:
        """A member's recent jobs, newest first (Discord /history, Slack App Home)."""
        return await self.members.history(requester.platform, requester.user_id, page=page, per_page=per_page,
                                          workspace=workspace)

    async def delete(self, job: Job) -> None:
        """Cancel it if still open, then remove its record, result and inputs."""
        if not job.state.terminal:
            await self.cancel(job.id)
            await self.runner.wait(job.id)
        await self.members.delete(job)

    async def forget(self, platform: str, user_id: str) -> int:
        """``/forget-me``: every job, result, input and ledger row of one member."""
        for job_id in await self.journal.ids_of(platform, user_id):
            job = await self.journal.get(job_id)
            if job is not None and not job.state.terminal:
                await self.cancel(job_id)
                await self.runner.wait(job_id)
        return await self.members.forget(platform, user_id)

    async def _execute(self, job: Job) -> Result:
        self.metrics.started(job.pool, job.created_at)
        began, outcome = time.monotonic(), "error"
        with metering() as meter:
            try:
                result = await self._generate(job)
                outcome = "ok"
                return result
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            finally:
                self.metrics.generated(job.kind, time.monotonic() - began, outcome, meter.attempts)
                if meter.usages:
                    await asyncio.shield(self.community.record(job.id, job.kind, meter.usages))

    async def refresh_metrics(self) -> None:
        await self.metrics.refresh(self.journal, self.community.store, self.runner.queue, tuple(self.pools))

    async def journal_ok(self) -> bool:
        """The journal answers a query (``/readyz``)."""
        try:
            async with asyncio.timeout(2):
                await self.journal.get("")
        except Exception:
            return False
        return True

    async def _generate(self, job: Job) -> Result:
        if isinstance(job.request, SpeakRequest):
            return await self._speak(job, job.request)
        return await drawing.draw(self.provider, job.request)

    async def _speak(self, job: Job, request: SpeakRequest) -> Result:
        """Stream the parts into the job's feed (listeners play along), then encode the joined clip."""
        self._ended.pop(job.id, None)  # a resumed job streams again
        feed = self._feeds.setdefault(job.id, AudioFeed())
        complete = False

        async def on_part(n: int, total: int) -> None:
            await self.runner.report(job.id, f"part {n} of {total}")

        try:
            speech = await speaking.generate(self.provider, request, feed, on_part=on_part)
            complete = True
        finally:
            self._end_feed(job.id, complete=complete)
        return await asyncio.to_thread(audio.encode, speech, request.audio_format, offline=self.provider.offline,
                                       max_bytes=request.max_bytes)


def refusal_reason(err: StudioError) -> str:
    """A short label for the refusals metric."""
    if isinstance(err, NotAllowed):
        return err.reason
    if isinstance(err, QuotaExceeded):
        return err.limit
    return err.code


@asynccontextmanager
async def open_studio(settings: Settings, *, provider: Provider | None = None,
                      hooks: tuple[DeliveryHook, ...] = (), resume: bool = True,
                      workers: bool = True) -> AsyncIterator[Studio]:
    """Build the studio from settings, start its workers, and close everything on the way out.

    Scaled out (``STUDIOBOT_DATABASE_URL``), ``workers=False`` only takes requests (``studiobot run``
    without ``--with-workers``; ``studiobot worker`` runs its own); otherwise this process also takes jobs
    from the shared queue, one pool per kind as without PostgreSQL (one-shot CLI commands, tests).
    """
    provider = provider or make_provider(settings)
    stores = await open_stores(settings.database_url_value, settings.data_dir)  # inputs and results
    blobs = stores.blobs
    db = open_database(settings.database_url_value, settings.journal_path)
    try:
        await db.open()
    except BaseException:
        await stores.close()
        raise
    journal, store = SqlJournal(db, blobs), SqlCommunityStore(db)
    queue: JobQueue = InProcessQueue(settings.max_queue)
    bus = shared = None
    try:
        await journal.upgrade()
        await store.upgrade()
        if db.dialect == "postgresql" and (url := settings.database_url_value):
            from core.jobs.shared import SharedQueue  # procrastinate: imported only when scaled out

            queue = shared = await SharedQueue.opened(url, db, settings.max_queue)
            bus = NoticeBus(url, db)
    except BaseException:
        await db.close()
        await stores.close()
        raise
    studio = Studio(provider, journal, queue, stores.results,
                    {"speech": settings.speech_workers, "image": settings.image_workers},
                    Community(store, settings, exempt_platforms=LOCAL_PLATFORMS), blobs,
                    default_count=settings.default_count, settings=settings,
                    max_speech_chars=settings.max_speech_chars, bus=bus)
    for hook in hooks:
        studio.register(hook)
    try:
        await studio.start(resume=resume)
        if stores.pool is not None:
            studio.runner.background(stores.tidy_forever(), "file cache")
        if workers and shared is not None:
            from core.jobs.worker import work_here

            work_here(studio.runner, studio.pools, settings.shutdown_grace_s)
        if resume and settings.retention_days > 0:
            studio.runner.background(retention.prune_forever(journal, studio.results, journal.blobs,
                                                             settings.retention_days), "retention")
        yield studio
    finally:
        await studio.stop()
        if shared is not None:
            await shared.close()
        await db.close()
        await stores.close()
        await provider.aclose()


__all__ = ["Studio", "StudioError", "open_studio"]
