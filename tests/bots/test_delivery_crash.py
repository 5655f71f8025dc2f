"""SIGKILL at each stage of a job, then a restart: every command ends with exactly one visible result.

One ``studiobot run`` serves Discord and Slack; each case sends speak, imagine and edit on both, kills the
process at the stage, starts a new one on the same data directory and checks what users see: one result
per command (found by the job id in the file name), no duplicate, no "thinking…"/"Waiting…" left behind,
no false error; and no token, key, interaction token or response_url in any log line or data file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emulator.app import Emulator
from emulator.faults import Fault
from tests.bots.stack import Stack

ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original$"
COMPLETE = r"files\.completeUploadExternal"
JOBS = 6  # speak, imagine, edit on Discord and on Slack


async def send_all(stack: Stack) -> None:
    await stack.discord_commands()
    await stack.slack_commands()


def count(stack: Stack, state: str) -> int:
    return sum(1 for r in stack.rows() if r[2] == state)


async def kill_while_queued(stack: Stack) -> None:
    """One worker per pool, held by the first speech and the first image: the other four wait in the queue."""
    stack.emulator.script(*[Fault.latency(60)] * 2)
    await send_all(stack)
    await stack.until(lambda: len(stack.rows()) == JOBS and count(stack, "queued") >= JOBS - 2)


async def kill_during_gemini(stack: Stack) -> None:
    stack.emulator.script(*[Fault.latency(60)] * JOBS)
    await send_all(stack)
    await stack.until(lambda: len(stack.emulator.calls) >= JOBS and count(stack, "running") == JOBS)


async def kill_while_encoding(stack: Stack) -> None:
    """Right after Gemini answered: the result is being encoded and saved (or was just journaled)."""
    await send_all(stack)
    await stack.until(lambda: len(stack.emulator.calls) >= JOBS, every=0.005)


async def kill_with_upload_stalled_before_stored(stack: Stack) -> None:
    discord = stack.discord.faults.arm("stall_before", "PATCH", ORIGINAL, content="multipart", times=3)
    slack = stack.slack.faults.arm("stall_before", "POST", COMPLETE, times=3)
    await send_all(stack)
    await stack.until(lambda: discord.hits == 3 and slack.hits == 3)


async def kill_after_stored_before_answer(stack: Stack) -> None:
    discord = stack.discord.faults.arm("stall_after", "PATCH", ORIGINAL, content="multipart", times=3)
    slack = stack.slack.faults.arm("stall_after", "POST", COMPLETE, times=3)
    await send_all(stack)
    await stack.until(lambda: discord.hits == 3 and slack.hits == 3)
    await asyncio.sleep(0.1)  # let the fakes finish storing what they answered late


STAGES = {
    "queued": kill_while_queued,
    "during the Gemini call": kill_during_gemini,
    "while encoding": kill_while_encoding,
    "upload stalled before stored": kill_with_upload_stalled_before_stored,
    "stored but not answered": kill_after_stored_before_answer,
}


@pytest.mark.parametrize("stage", list(STAGES), ids=list(STAGES))
async def test_sigkill_then_restart_gives_exactly_one_result_per_command(tmp_path: Path, emulator: Emulator,
                                                                         stage: str) -> None:
    async with Stack(tmp_path, emulator) as stack:
        one_worker_each = {"STUDIOBOT_SPEECH_WORKERS": "1", "STUDIOBOT_IMAGE_WORKERS": "1"}
        first = await stack.start(**(one_worker_each if stage == "queued" else {}))
        await STAGES[stage](stack)
        first.kill()
        await first.proc.wait()
        stack.emulator.reset()
        stack.discord.faults.clear()
        stack.slack.faults.clear()

        second = await stack.start()
        rows = await stack.all_settled(JOBS)
        assert len(rows) == JOBS
        stack.assert_exactly_once(rows)
        assert await second.stop() == 0
        assert stack.scan() == []
