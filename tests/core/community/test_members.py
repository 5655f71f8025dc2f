"""A member's records: usage that adds up, paged history, Delete and /forget-me that leave no file behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.requests import EditRequest, ImagineRequest, Origin, Requester, SpeakRequest
from core.studio import open_studio
from tests.core.conftest import make_settings
from tests.fakes.media import png

ORIGIN = Origin("test", workspace="guild1", channel="c1")
ADA = Requester("test", "ada", "Ada")
BOB = Requester("test", "bob", "Bob")


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and not p.name.startswith("journal.sqlite3")}


async def test_usage_totals_equal_the_journal(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with open_studio(settings) as studio:
        for who, request in ((ADA, SpeakRequest("hi")), (ADA, ImagineRequest("a cat")), (BOB, SpeakRequest("yo")),
                             (ADA, SpeakRequest("again"))):
            await studio.outcome((await studio.submit(request, who, ORIGIN)).id)
        by_user_kind = {(line.key["user_id"], line.key["kind"]): line.requests
                        for line in await studio.community.usage(by=("user_id", "kind"), workspace="guild1")}
    with sqlite3.connect(settings.journal_path) as db:
        rows = db.execute("SELECT json_extract(requester, '$.user_id'), kind, COUNT(*) FROM jobs GROUP BY 1, 2")
        journal = {(u, k): n for u, k, n in rows}
    assert by_user_kind == journal == {("ada", "speak"): 2, ("ada", "imagine"): 1, ("bob", "speak"): 1}


async def test_history_pages_newest_first(tmp_path: Path) -> None:
    async with open_studio(make_settings(tmp_path)) as studio:
        jobs = [await studio.submit(SpeakRequest(f"line {n}"), ADA, ORIGIN) for n in range(7)]
        await studio.submit(SpeakRequest("not mine"), BOB, ORIGIN)
        first = await studio.history(ADA, per_page=3)
        last = await studio.history(ADA, page=2, per_page=3)
        past_the_end = await studio.history(ADA, page=9, per_page=3)
    assert (first.total, first.pages) == (7, 3)
    assert [j.id for j in first.jobs] == [j.id for j in reversed(jobs[-3:])]
    assert [j.id for j in last.jobs] == [jobs[0].id]
    assert past_the_end.page == 2


async def test_delete_and_forget_me_leave_no_file_of_the_member(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    picture = png(64, 64, (10, 200, 30))
    async with open_studio(settings) as studio:
        bob = await studio.submit(EditRequest(picture, "make it blue"), BOB, ORIGIN)  # shares Ada's input file
        await studio.outcome(bob.id)
        before_ada = _files(tmp_path)
        ada_jobs = [await studio.submit(r, ADA, ORIGIN) for r in (
            SpeakRequest("hello"), EditRequest(picture, "make it night"), ImagineRequest("x", references=(png(8, 8),)))]
        for job in ada_jobs:
            await studio.outcome(job.id)
        first = await studio.job(ada_jobs[0].id)
        assert first is not None and first.result is not None
        await studio.delete(first)
        assert not (await studio.result_path(first)).exists()  # type: ignore[union-attr]
        assert await studio.job(first.id) is None

        forgotten = await studio.forget("test", "ada")
        assert forgotten == 2
        assert _files(tmp_path) == before_ada  # Bob's input and result stay; nothing of Ada's does
        assert (await studio.history(ADA)).total == 0
        assert await studio.community.usage(user_id="ada") == []
        assert (await studio.job(bob.id)) is not None
