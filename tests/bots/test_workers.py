"""Scaled out on a real PostgreSQL: a front end takes requests, real ``studiobot worker`` processes run them.

The front end is a studio in this test process (``workers=False``, as ``studiobot run`` without
``--with-workers``); each worker is a separate process with its own data directory, so inputs and results
can only travel through the database. Platform "test" has no delivery hook in the workers, so the front end
that holds each job's live reply posts its outcome: what the reply records is what its user saw.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from core.errors import JobCancelled
from core.jobs.model import Job, JobState
from core.requests import ImagineRequest, Origin, Requester
from core.results import ImageResult
from core.studio import Studio, open_studio
from emulator.app import Emulator
from emulator.faults import Fault
from tests.fakes.replies import RecordingReply
from tests.processes import STUDIOBOT, Proc, clean_env, launch
from tests.settings import offline_settings
from tests.waiting import until, until_true

pytestmark = pytest.mark.slow
ADA = Requester("test", "u1", "Ada")
HERE = Origin("test", workspace="w1", channel="c1")
LEASE_S = 1.5  # a SIGKILLed worker's jobs go back in line this long after its last heartbeat


@asynccontextmanager
async def front_end(tmp_path: Path, url: str) -> AsyncIterator[Studio]:
    settings = offline_settings(tmp_path / "front", database_url=url, lease_s=LEASE_S)
    async with open_studio(settings, workers=False) as studio:
        yield studio


async def start_worker(tmp_path: Path, url: str, name: str, *args: str, **env: str) -> Proc:
    values = {"STUDIOBOT_DATA_DIR": str(tmp_path / name), "STUDIOBOT_DATABASE_URL": url,
              "STUDIOBOT_LEASE_S": str(LEASE_S), "STUDIOBOT_SHUTDOWN_GRACE_S": "2"} | env
    return await launch("worker", *args, env=clean_env(**values), ready=["Worker:"])


def gemini(emulator: Emulator) -> dict[str, str]:
    return {"GEMINI_API_KEY": "test-key", "STUDIOBOT_GEMINI_BASE_URL": emulator.base_url,
            "STUDIOBOT_GEMINI_TIMEOUT_S": "120", "STUDIOBOT_GEMINI_RETRY_BASE_S": "0.01"}


def started(reply: RecordingReply) -> bool:
    return any(e.state is JobState.RUNNING for e in reply.progress_events)


def owner_pid(job: Job) -> int | None:
    return int(job.owner.split(":")[1]) if job.owner else None


async def test_two_workers_share_200_jobs_none_lost_none_twice(tmp_path: Path, postgres_url: str) -> None:
    async with front_end(tmp_path, postgres_url) as studio:
        workers = [await start_worker(tmp_path, postgres_url, f"w{n}", "--concurrency", "3") for n in (1, 2)]
        replies = [RecordingReply() for _ in range(200)]
        jobs = [await studio.submit(ImagineRequest(f"card {n}"), ADA, HERE, reply=r) for n, r in enumerate(replies)]
        await until_true(lambda: all(r.posted or r.failed for r in replies), "every job was posted", timeout=180)

        assert all(len(r.posted) == 1 and not r.failed for r in replies)
        assert all(isinstance(r.posted[0][1], ImageResult) for r in replies)  # read back from the database
        stored = [await studio.job(j.id) for j in jobs]
        assert all(j is not None and j.state is JobState.DONE and j.attempts == 1 for j in stored)
        ran_by = {owner_pid(j) for j in stored if j is not None}
        assert ran_by == {w.proc.pid for w in workers}  # both took their share
        for worker in workers:
            assert await worker.stop() == 0


async def test_a_sigkilled_workers_job_is_taken_over_and_delivered_once(
        tmp_path: Path, postgres_url: str, emulator: Emulator) -> None:
    emulator.script(Fault.latency(60))  # the first worker's call hangs: it is killed mid-job
    async with front_end(tmp_path, postgres_url) as studio:
        doomed = await start_worker(tmp_path, postgres_url, "doomed", **gemini(emulator))
        reply = RecordingReply()
        job = await studio.submit(ImagineRequest("a lighthouse"), ADA, HERE, reply=reply)

        async def running() -> Job | None:
            j = await studio.job(job.id)
            return j if j is not None and j.state is JobState.RUNNING else None

        assert owner_pid(await until(running, "the job started")) == doomed.proc.pid
        await until_true(lambda: emulator.calls, "its call reached Gemini")
        doomed.kill()
        await doomed.proc.wait()
        heir = await start_worker(tmp_path, postgres_url, "heir", **gemini(emulator))
        await until_true(lambda: reply.posted or reply.failed, "the job was taken over and posted", timeout=60)

        assert [jid for jid, _ in reply.posted] == [job.id] and not reply.failed
        done = await studio.job(job.id)
        assert done is not None and done.state is JobState.DONE and done.attempts == 2
        assert owner_pid(done) == heir.proc.pid
        assert await heir.stop() == 0


async def test_cancel_from_the_front_end_stops_the_job_in_its_worker(
        tmp_path: Path, postgres_url: str, emulator: Emulator) -> None:
    emulator.script(Fault.latency(60))
    async with front_end(tmp_path, postgres_url) as studio:
        worker = await start_worker(tmp_path, postgres_url, "w", "--concurrency", "1", **gemini(emulator))
        reply = RecordingReply()
        job = await studio.submit(ImagineRequest("a slow storm"), ADA, HERE, reply=reply)
        await until_true(lambda: started(reply) and emulator.calls, "the worker is waiting on Gemini")

        assert await studio.cancel(job.id)
        ended = await asyncio.wait_for(studio.runner.wait(job.id), 20)
        assert ended.state is JobState.CANCELLED
        await until_true(lambda: reply.failed, "the user was told")
        assert reply.failed == [(job.id, JobCancelled().user_message)] and not reply.posted

        # The worker is free again at once: its only slot is not stuck on the cancelled call.
        nxt = RecordingReply()
        await studio.submit(ImagineRequest("a calm sea"), ADA, HERE, reply=nxt)
        await until_true(lambda: nxt.posted, "the next job ran", timeout=30)
        assert await worker.stop() == 0


async def test_a_worker_stopped_gracefully_puts_its_unfinished_job_back_in_line(
        tmp_path: Path, postgres_url: str, emulator: Emulator) -> None:
    emulator.script(Fault.latency(60))
    async with front_end(tmp_path, postgres_url) as studio:
        leaving = await start_worker(tmp_path, postgres_url, "leaving", **gemini(emulator))
        reply = RecordingReply()
        job = await studio.submit(ImagineRequest("a long night"), ADA, HERE, reply=reply)
        await until_true(lambda: started(reply) and emulator.calls, "the worker is waiting on Gemini")
        assert await leaving.stop() == 0  # SIGTERM: 2 s of grace, then the job goes back in line
        assert not reply.posted
        staying = await start_worker(tmp_path, postgres_url, "staying", **gemini(emulator))
        await until_true(lambda: reply.posted, "the next worker finished it", timeout=60)
        assert [jid for jid, _ in reply.posted] == [job.id]
        done = await studio.job(job.id)
        assert done is not None and done.attempts == 1  # a graceful stop is no failed attempt
        assert await staying.stop() == 0


async def test_the_front_end_shows_positions_and_progress_of_jobs_running_in_a_worker(
        tmp_path: Path, postgres_url: str, emulator: Emulator) -> None:
    emulator.script(*[Fault.latency(0.5)] * 4)
    async with front_end(tmp_path, postgres_url) as studio:
        worker = await start_worker(tmp_path, postgres_url, "w", "--concurrency", "1", "--kinds", "image",
                                    **gemini(emulator))
        replies = [RecordingReply() for _ in range(4)]
        jobs = [await studio.submit(ImagineRequest(f"harbour {n}"), ADA, HERE, reply=r) for n, r in enumerate(replies)]
        seen = [e async for e in studio.watch(jobs[-1].id)]  # a watcher (the playground) hears every change
        await until_true(lambda: all(r.posted for r in replies), "every job was posted")

        positions = [e.position for e in seen if e.state is JobState.QUEUED and e.position]
        assert positions and positions == sorted(positions, reverse=True) and positions[-1] == 1
        assert [e.state for e in seen][-2:] == [JobState.RUNNING, JobState.DONE]
        last = replies[-1].progress_events  # the platform: coalesced, a couple of edits, never a flood
        assert 1 <= len(last) <= 2 and last[0].state is JobState.QUEUED and last[-1].state is JobState.RUNNING
        assert all(len(r.posted) == 1 for r in replies)
        assert await worker.stop() == 0


def test_a_worker_without_postgresql_says_what_it_needs(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run([*STUDIOBOT, "worker"], env=clean_env(STUDIOBOT_DATA_DIR=str(tmp_path)),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: studiobot worker takes jobs from the shared queue")
    assert "Traceback" not in done.stderr


def test_worker_kinds_are_checked(tmp_path: Path) -> None:
    import subprocess

    env = clean_env(STUDIOBOT_DATA_DIR=str(tmp_path), STUDIOBOT_DATABASE_URL="postgresql://nobody@127.0.0.1:1/x")
    done = subprocess.run([*STUDIOBOT, "worker", "--kinds", "video"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1 and "--kinds takes speech and/or image" in done.stderr


