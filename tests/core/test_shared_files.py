"""Scaled out, a request's inputs and its result live in PostgreSQL: whatever machine accepted a job, any other
one (each with its own data directory) reads its inputs, loads and streams its result, and deleting or
retention removes them everywhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from core.jobs import retention, schema
from core.jobs.files import BlobStore
from core.jobs.storage import DirectoryFiles, Files, PostgresFiles
from core.requests import EditRequest, ImagineRequest, Origin, Requester, SpeakRequest
from core.studio import Studio, open_studio
from tests.adapters.conftest import serving
from tests.fakes.media import image_size, png
from tests.fakes.replies import RecordingHook
from tests.settings import offline_settings

ADA = Requester("discord", "ada", "Ada")
BOB = Requester("discord", "bob", "Bob")
HERE = Origin("discord", workspace="g1", channel="c1")


async def _machines(stack: AsyncExitStack, tmp_path: Path, url: str, *names: str, platform: str = "discord",
                    **settings: object) -> list[Studio]:
    """One studio per "machine": the same database, each its own data directory."""
    return [await stack.enter_async_context(open_studio(offline_settings(tmp_path / n, database_url=url, **settings),
                                                        hooks=(RecordingHook(platform),)))
            for n in names]


async def _stored(url: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        return {r[0] for r in await (await conn.execute("SELECT name FROM files")).fetchall()}


def _local_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "cache" not in p.parts}


async def test_a_job_accepted_on_one_machine_is_read_loaded_and_streamed_on_another(
        tmp_path: Path, postgres_url: str) -> None:
    picture = png(64, 48, (200, 30, 30))
    async with AsyncExitStack() as stack:
        front, other = await _machines(stack, tmp_path, postgres_url, "front", "other")
        edit = await front.submit(EditRequest(picture, "make it blue"), ADA, HERE)
        grid = await front.submit(ImagineRequest("a lighthouse", count=4), ADA, HERE)
        drawn = await front.outcome(grid.id)
        await front.outcome(edit.id)

        seen = await other.job(edit.id)  # the input picture, read back from the database
        assert seen is not None and seen.request == EditRequest(picture, "make it blue")
        finished = await other.job(grid.id)
        assert finished is not None
        assert await other.result_of(finished) == drawn
        cell, _ = await other.candidate(finished, 3)  # U3 pressed on a message the other machine posted
        assert cell == drawn.candidates[2] and image_size(cell) == image_size(drawn.candidates[2])
        path = await other.result_path(finished)
        assert path is not None and path.read_bytes() == drawn.data and (tmp_path / "other") in path.parents

    # nothing on either machine's disk but the streamed copy: no results/ or blobs/ directory
    assert _local_files(tmp_path / "front") == _local_files(tmp_path / "other") == set()
    assert len([n for n in await _stored(postgres_url) if n.startswith("results/")]) == 1 + 4 + 1


async def test_the_playground_streams_a_result_another_machine_made(tmp_path: Path, postgres_url: str) -> None:
    async with AsyncExitStack() as stack:
        served = await stack.enter_async_context(serving(offline_settings(tmp_path / "front",
                                                                          database_url=postgres_url)))
        [worker] = await _machines(stack, tmp_path, postgres_url, "worker", platform="playground")
        job = await worker.submit(SpeakRequest("hello from the other machine"), ADA,
                                  Origin("playground", workspace="local", channel="local"))
        clip = await worker.outcome(job.id)
        res, data = await served.fetch(f"/api/jobs/{job.id}/result")
        assert res.status == 200 and res.content_type == "audio/ogg"
        assert data == clip.data

        gone = await worker.job(job.id)
        assert gone is not None
        await worker.delete(gone)  # Delete on one machine: the other stops serving it at once
        res, _ = await served.fetch(f"/api/jobs/{job.id}/result")
        assert res.status == 404
        await asyncio.to_thread(served.studio.results.tidy)  # and its next tidy (every minute) drops the copy
        assert not any((tmp_path / "front" / "cache").rglob("*.ogg"))


async def test_delete_and_forget_me_remove_the_rows_of_a_member_only(tmp_path: Path, postgres_url: str) -> None:
    picture = png(64, 64, (10, 200, 30))
    async with AsyncExitStack() as stack:
        front, other = await _machines(stack, tmp_path, postgres_url, "front", "other")
        bob = await front.submit(EditRequest(picture, "make it blue"), BOB, HERE)  # shares Ada's input file
        await front.outcome(bob.id)
        bobs = await _stored(postgres_url)
        jobs = [await front.submit(r, ADA, HERE) for r in (
            ImagineRequest("a lighthouse", count=2), EditRequest(picture, "make it night"),
            ImagineRequest("x", references=(png(8, 8),)))]
        for job in jobs:
            await front.outcome(job.id)
        grid = await other.job(jobs[0].id)
        assert grid is not None
        await other.delete(grid)
        assert not any(n.startswith(f"results/{grid.id}") for n in await _stored(postgres_url))  # cells too
        assert await other.forget("discord", "ada") == 2
        assert await _stored(postgres_url) == bobs


async def test_retention_removes_old_rows_and_keeps_inputs_a_new_job_reuses(
        tmp_path: Path, postgres_url: str) -> None:
    old_input, reused_input = png(16, 16, (1, 2, 3)), png(16, 16, (4, 5, 6))
    async with AsyncExitStack() as stack:
        [studio] = await _machines(stack, tmp_path, postgres_url, "front", retention_days=0)
        for picture in (old_input, reused_input):
            await studio.outcome((await studio.submit(EditRequest(picture, "blue"), ADA, HERE)).id)
        month_ago = time.time() - 31 * 86400
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
            await conn.execute("UPDATE jobs SET updated_at = %s", (month_ago,))
            await conn.execute("UPDATE files SET created_at = %s", (month_ago,))
        key = BlobStore.key_of(reused_input)
        await asyncio.to_thread(studio.journal.blobs.put, reused_input)  # type: ignore[attr-defined]  # a new job

        removed = await retention.prune(studio.journal, studio.results, studio.journal.blobs,  # type: ignore[attr-defined]
                                        30 * 86400)
        assert removed == 2 + 1  # both results, the input nobody uses any more
        assert await _stored(postgres_url) == {f"blobs/{key[:2]}/{key}"}
        assert await studio.recent("discord") == []


@pytest.fixture(params=["directory", "postgresql"])
def files(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Files]:
    if request.param == "directory":
        yield DirectoryFiles(tmp_path / "files")
        return
    url = request.getfixturevalue("postgres_url")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema.FILES_TABLE)
    with ConnectionPool(url, min_size=1, max_size=1) as pool:
        yield PostgresFiles(pool, "blobs/", tmp_path / "cache")


def test_both_backends_keep_the_same_contract(files: Files) -> None:
    files.write({"ab/one": b"1", "ab/two": b"2"})
    assert files.read(["ab/two", "ab/one"]) == [b"2", b"1"]
    with pytest.raises(FileNotFoundError):
        files.read(["ab/one", "ab/none"])
    files.write({"ab/one": b"changed"})  # a retried job's result replaces the first attempt's
    files.write({"ab/two": b"ignored"}, keep=True)  # an input with the same hash keeps its bytes
    assert files.read(["ab/one", "ab/two"]) == [b"changed", b"2"]
    assert files.local("ab/one").read_bytes() == b"changed"
    assert not files.local("ab/none").exists()

    cutoff = time.time() + 60  # both written "before" it; a write after it counts as new
    assert sorted(files.written_before(cutoff)) == ["ab/one", "ab/two"]
    assert files.written_before(time.time() - 60) == []
    assert files.delete(["ab/one", "ab/none"]) == 1
    assert files.delete(["ab/two"], before=time.time() - 60) == 0  # written since: kept
    assert files.read(["ab/two"]) == [b"2"]
