"""Scaled out for real: ``studiobot run`` takes the commands, one ``studiobot worker`` (another data dir, as on
another machine) runs them on a shared PostgreSQL and posts over the platforms' REST APIs; the front end then
removes what only it holds: Discord's "thinking…" (its interaction token), Slack's status message. A member
sees one result per command and nothing left over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from emulator.app import Emulator
from emulator.faults import Fault
from tests.bots.stack import Stack
from tests.fakes.discord.server import EPHEMERAL
from tests.fakes.discord.state import Interaction
from tests.fakes.media import image_size
from tests.waiting import until


async def journal(database: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database) as db:
        cursor = await db.execute("SELECT id, state, delivery, kind FROM jobs ORDER BY created_at")
        return await cursor.fetchall()


@pytest.mark.parametrize("worker_may_delete", [True, False], ids=["worker tidies too", "only the front end can"])
async def test_a_worker_posts_each_result_once_and_the_front_end_removes_the_thinking(
        tmp_path: Path, emulator: Emulator, postgres_url: str, worker_may_delete: bool) -> None:
    async with Stack(tmp_path / "front", emulator) as stack:
        if not worker_may_delete:  # the bot's own delete is refused: only the interaction token can remove it
            stack.discord.faults.arm("status", "DELETE", r"/channels/\d+/messages/\d+$", status=403, times=100)
        front = await stack.start(slack=False, STUDIOBOT_DATABASE_URL=postgres_url)
        await stack.start_worker(tmp_path / "worker", postgres_url)
        asked: list[Interaction] = [await stack.discord.slash("imagine", prompt="a harbour", aspect="16:9"),
                                    await stack.discord.slash("speak", text="good morning")]
        for it in asked:
            assert await stack.discord.responded(it) == 5  # deferred: "thinking…" at once, by the front end

        async def settled() -> list[tuple[Any, ...]] | None:
            rows = await journal(postgres_url)
            done = len(rows) == 2 and all(r[1:3] == ("done", "delivered") for r in rows)
            gone = all(stack.discord.is_deleted(it.original_id or "") for it in asked)
            return rows if done and gone else None

        rows = await until(settled, "every result delivered and every thinking… gone", timeout=90)
        for job_id, _, _, kind in rows:
            [shown] = stack.discord_results(job_id)
            data = stack.discord.file(shown["attachments"][0])
            if kind == "imagine":
                assert image_size(data) == (1344, 768)
            else:
                assert data.startswith(b"OggS")
        assert stack.discord_leftovers() == []
        posts = [c for c in stack.discord.state.calls if c.method == "POST" and c.path.endswith("/messages")]
        assert sorted(c.body["nonce"] for c in posts if c.body) == sorted(f"sbr{r[0]}" for r in rows)
        assert not [c for c in stack.discord.state.calls if c.method == "PATCH" and "@original" in c.path
                    and c.files]  # no result went through the interaction: the worker has no token
        by_token = [c for c in stack.discord.state.calls if c.method == "DELETE" and c.path.endswith("/@original")]
        assert len(by_token) >= (0 if worker_may_delete else 2)
        assert await front.stop() == 0
    assert stack.scan() == []


async def test_a_worker_posts_slack_results_once_and_the_front_ends_status_goes(
        tmp_path: Path, emulator: Emulator, postgres_url: str) -> None:
    async with Stack(tmp_path / "front", emulator) as stack:
        front = await stack.start(STUDIOBOT_DATABASE_URL=postgres_url)
        worker = await stack.start_worker(tmp_path / "worker", postgres_url, slack=True)
        await stack.slack_slash("/imagine", "a harbour --aspect 16:9")
        await stack.slack_slash("/speak", "good morning")

        async def settled() -> list[tuple[Any, ...]] | None:
            rows = await journal(postgres_url)
            done = len(rows) == 2 and all(r[1:3] == ("done", "delivered") for r in rows)
            tidy = done and all(stack.slack_results(r[0])[2] == 0 for r in rows)
            return rows if tidy else None

        rows = await until(settled, "every result delivered and every status message gone", timeout=90)
        for job_id, _, _, kind in rows:
            assert stack.slack_results(job_id) == ((1 if kind == "speak" else 0), 1, 0), kind
        uploads = stack.slack.completed_uploads()
        assert sorted(u.filename.rsplit(".", 1)[1] for u in uploads) == ["mp3", "png"]
        assert image_size(next(u for u in uploads if u.filename.endswith(".png")).content) == (1344, 768)
        assert not [e for e in stack.slack.ephemerals if "wouldn't" in e["text"] or "went wrong" in e["text"]]
        assert stack.slack.calls_to("files.completeUploadExternal")  # posted by the worker, with the bot token
        assert "delivers to discord, slack" in "".join(worker.log)
        assert await front.stop() == 0
    assert stack.scan() == []


async def test_a_failure_in_a_worker_reaches_only_the_member_who_asked(
        tmp_path: Path, emulator: Emulator, postgres_url: str) -> None:
    """The worker could post it, but publicly; the front end holding the command tells the member alone."""
    emulator.script(Fault.blocked("PROHIBITED_CONTENT"))
    async with Stack(tmp_path / "front", emulator) as stack:
        front = await stack.start(slack=False, STUDIOBOT_DATABASE_URL=postgres_url)
        await stack.start_worker(tmp_path / "worker", postgres_url)
        it = await stack.discord.slash("imagine", prompt="something the model refuses")
        text = await stack.discord.ephemeral(it)
        assert "declined" in text and "prohibited content" in text

        async def settled() -> list[tuple[Any, ...]] | None:
            rows = await journal(postgres_url)
            return rows if rows and rows[0][1:3] == ("failed", "delivered") else None

        await until(settled, "the failure was recorded as delivered")
        visible = [m for m in stack.discord.state.messages.values()
                   if not m["flags"] & EPHEMERAL and m["id"] not in stack.discord.state.deleted]
        assert not visible  # nothing public: no channel note from the worker
        assert await front.stop() == 0
    assert stack.scan() == []


async def test_a_front_end_killed_while_its_jobs_run_in_a_worker_loses_nothing(
        tmp_path: Path, emulator: Emulator, postgres_url: str) -> None:
    """The worker needs nothing from the front end that took the command: the result still arrives once, and
    the front end started in its place posts nothing again."""
    emulator.script(*[Fault.latency(2)] * 2)
    async with Stack(tmp_path / "front", emulator) as stack:
        first = await stack.start(slack=False, STUDIOBOT_DATABASE_URL=postgres_url)
        await stack.start_worker(tmp_path / "worker", postgres_url)
        asked = [await stack.discord.slash("imagine", prompt="a harbour"),
                 await stack.discord.slash("speak", text="good morning")]
        for it in asked:
            assert await stack.discord.responded(it) == 5

        async def running() -> bool:
            rows = await journal(postgres_url)
            return len(rows) == 2 and all(r[1] == "running" for r in rows)

        await until(running, "both jobs accepted and running in the worker")
        first.kill()
        await first.proc.wait()
        second = await stack.start(slack=False, STUDIOBOT_DATABASE_URL=postgres_url)

        async def settled() -> list[tuple[Any, ...]] | None:
            rows = await journal(postgres_url)
            done = len(rows) == 2 and all(r[1:3] == ("done", "delivered") for r in rows)
            return rows if done and not stack.discord_leftovers() else None

        rows = await until(settled, "both results delivered, no thinking… left", timeout=90)
        assert all(len(stack.discord_results(job_id)) == 1 for job_id, *_ in rows)
        posts = [c for c in stack.discord.state.calls if c.method == "POST" and c.path.endswith("/messages")]
        assert len(posts) == 2  # one post per result, by the worker; none by either front end
        assert await second.stop() == 0
    assert stack.scan() == []


async def test_run_with_workers_on_postgresql_takes_and_runs_each_command_once(
        tmp_path: Path, emulator: Emulator, postgres_url: str) -> None:
    """One box, scaled-out store: the process that took the command runs it and answers the interaction."""
    async with Stack(tmp_path / "front", emulator) as stack:
        front = await stack.start("--with-workers", slack=False, STUDIOBOT_DATABASE_URL=postgres_url)
        assert "runs jobs (--with-workers)" in "".join(front.log)
        it = await stack.discord.slash("imagine", prompt="a harbour", aspect="16:9")
        shown = await stack.discord.result(it)  # the interaction's own response carries the picture
        assert image_size(stack.discord.file(shown["attachments"][0])) == (1344, 768)

        async def recorded() -> list[tuple[Any, ...]] | None:  # the record follows the post
            rows = await journal(postgres_url)
            return rows if [r[1:] for r in rows] == [("done", "delivered", "imagine")] else None

        rows = await until(recorded, "the post was recorded")
        assert stack.discord_results(rows[0][0]) == [shown] and stack.discord_leftovers() == []
        assert await front.stop() == 0
    assert stack.scan() == []
