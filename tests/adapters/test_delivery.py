"""Every adapter submits through one helper: help and refusals reach the user, never a traceback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.delivery import submit_and_track
from core.commands import Help, parse
from core.errors import StudioError
from core.jobs.model import Job, Progress
from core.requests import Origin, Requester
from core.results import Result
from core.studio import Studio, open_studio
from tests.adapters.conftest import make_settings
from tests.waiting import until

REQUESTER = Requester("test", "u1", "Ada")
ORIGIN = Origin("test", channel="c1")


class RecordingReply:
    def __init__(self) -> None:
        self.helped: list[Help] = []
        self.rejected: list[StudioError] = []
        self.progressed: list[Progress] = []
        self.posted: list[Result] = []

    async def help(self, help: Help) -> None:
        self.helped.append(help)

    async def reject(self, error: StudioError) -> None:
        self.rejected.append(error)

    async def progress(self, progress: Progress) -> None:
        self.progressed.append(progress)

    async def post(self, job: Job, result: Result) -> str | None:
        self.posted.append(result)
        return "msg-1"

    async def fail(self, job: Job, error: StudioError) -> str | None:
        self.rejected.append(error)
        return None

    async def handed_off(self, job: Job) -> None:
        return None


@pytest.fixture
async def studio(tmp_path: Path) -> AsyncIterator[Studio]:
    async with open_studio(make_settings(tmp_path)) as studio:
        yield studio


async def test_an_accepted_command_is_tracked_to_its_result(studio: Studio) -> None:
    reply = RecordingReply()
    job = await submit_and_track(studio, reply, lambda: parse("/speak hello"), REQUESTER, ORIGIN)
    assert job is not None
    await studio.outcome(job.id)  # done; the post and its record follow

    async def posted() -> Job | None:
        return await studio.job_for_message("test", "msg-1")

    assert (await until(posted, "the result was never recorded as posted")).id == job.id
    assert [type(r).__name__ for r in reply.posted] == ["AudioClip"]
    assert reply.progressed


@pytest.mark.parametrize(("line", "says"), [("/speak --colour red hi", "no option"),
                                            ("/imagine --aspect 9:7 a cat", "Unknown aspect ratio")])
async def test_parse_and_validation_errors_become_a_plain_refusal(studio: Studio, line: str, says: str) -> None:
    reply = RecordingReply()
    assert await submit_and_track(studio, reply, lambda: parse(line), REQUESTER, ORIGIN) is None
    assert says in reply.rejected[0].user_message
    assert await studio.journal.recent("test") == []


async def test_help_is_shown_not_submitted(studio: Studio) -> None:
    reply = RecordingReply()
    assert await submit_and_track(studio, reply, parse("/speak help"), REQUESTER, ORIGIN) is None
    assert reply.helped[0].command == "speak"
