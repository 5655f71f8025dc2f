"""Live progress on Slack: a visible status message edited in place, a Cancel button, then the result in its place."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.jobs.model import JobState
from tests.adapters.slack.conftest import ALICE, BOB, CHANNEL, HeldProvider, Rig, running

IMAGE_BUTTONS = ["Retry", "Edit", "Vary", "Upscale to 2K", "Delete"]


@pytest.fixture
async def held(tmp_path: Path) -> AsyncIterator[tuple[Rig, HeldProvider]]:
    provider = HeldProvider()
    async with running(tmp_path, provider=provider, image_workers=1) as rig:
        yield rig, provider


def message(slack: Rig, ts: str) -> dict[str, Any] | None:
    return next((m for m in slack.fake.channels.get(CHANNEL, []) if m["ts"] == ts), None)


async def status_of(slack: Rig, prompt: str) -> dict[str, Any]:
    """The status message of the request with ``prompt`` (it carries a Cancel button)."""
    def find() -> dict[str, Any] | None:
        return next((m for m in slack.fake.channels.get(CHANNEL, []) if prompt in json.dumps(m.get("blocks"))
                     and "Cancel" in slack.labels(m)), None)
    found: dict[str, Any] = await slack.fake.wait_for(find)
    return found


async def test_queue_position_then_generating_then_the_result_in_the_same_message(
        held: tuple[Rig, HeldProvider]) -> None:
    slack, provider = held
    for prompt in ("first fox", "second fox", "third fox"):
        status, _, body = await slack.slash("/imagine", prompt)
        assert (status, body) == (200, "")
    third = await status_of(slack, "third fox")
    await slack.fake.wait_for(lambda: "#2 in line" in json.dumps(third.get("blocks")))
    assert slack.labels(third) == ["Cancel"]
    provider.gate.set()

    await slack.fake.next_upload(3)
    jobs = await slack.delivered()
    assert [j.state for j in jobs] == [JobState.DONE] * 3
    result = next(m for m in slack.fake.channels[CHANNEL] if m["ts"] == third["ts"])
    assert slack.labels(result) == IMAGE_BUTTONS and result["blocks"][1]["type"] == "image"
    lines = [e["text"] for c in slack.fake.calls if c.error is None and (c.args.get("ts") == third["ts"] or (
        c.method == "chat.postMessage" and "third fox" in c.args.get("text", ""))) for b in c.args.get("blocks") or []
        if b.get("block_id") == "sb_status" for e in b["elements"]]
    positions = [int(m[1]) for line in lines if (m := re.search(r"#(\d+) in line", line))]
    assert positions and positions[0] == 2 and positions == sorted(positions, reverse=True)
    assert "Generating" in lines[-1]  # in order: waiting, then generating, then the result took its place
    assert len([m for m in slack.fake.channels[CHANNEL] if m.get("bot_id")]) == 3  # one message per request


async def test_cancel_while_generating_removes_the_status_and_posts_nothing(held: tuple[Rig, HeldProvider]) -> None:
    slack, provider = held
    await slack.slash("/imagine", "a slow lighthouse")
    status = await status_of(slack, "a slow lighthouse")
    await slack.fake.wait_for(lambda: "Generating" in json.dumps(message(slack, status["ts"])))
    await slack.click("sb_cancel", status)
    note = await slack.fake.next_ephemeral()
    assert note["user"] == ALICE and note["text"] == "The request was cancelled."
    [job] = await slack.delivered()
    assert job.state is JobState.CANCELLED
    assert not [m for m in slack.fake.channels[CHANNEL] if m.get("bot_id")]  # the status went away
    provider.gate.set()
    assert slack.fake.calls_to("files.getUploadURLExternal") == []


async def test_cancel_while_queued_and_a_stranger_cannot_cancel(held: tuple[Rig, HeldProvider]) -> None:
    slack, provider = held
    await slack.slash("/imagine", "the one running")
    await slack.slash("/imagine", "the one waiting")
    waiting = await status_of(slack, "the one waiting")
    await slack.click("sb_cancel", waiting, user=BOB)
    refused = await slack.fake.next_ephemeral()
    assert refused["user"] == BOB and "can cancel" in refused["text"]
    await slack.click("sb_cancel", waiting)
    await slack.fake.next_ephemeral(2)
    provider.gate.set()
    upload = await slack.fake.next_upload()
    running_job, waiting_job = await slack.delivered()
    assert (running_job.state, waiting_job.state) == (JobState.DONE, JobState.CANCELLED)
    assert provider.started == 1 and len(slack.fake.completed_uploads()) == 1 and upload.ts != waiting["ts"]


async def test_a_freshly_uploaded_image_refused_as_invalid_blocks_is_shown_on_retry(slack: Rig) -> None:
    slack.fake.file_ready_s = 0.6  # Slack: "invalid slack file" for a moment after the upload
    await slack.slash("/imagine", "a kite")
    upload = await slack.fake.next_upload()
    shown = [c for c in slack.fake.calls if c.method in ("chat.update", "chat.postMessage") and
             any(b.get("type") == "image" for b in c.args.get("blocks") or [])]
    assert shown[0].error == "invalid_blocks" and shown[-1].error is None
    result = await slack.buttons_under(upload)
    assert result["blocks"][1]["slack_file"] == {"id": upload.file_id}


async def test_progress_is_coalesced_to_a_few_spaced_edits_per_message(tmp_path: Path) -> None:
    provider = HeldProvider()
    async with running(tmp_path, provider=provider, image_workers=1, progress_interval_s=0.4) as slack:
        prompts = [f"fox number {n}" for n in range(8)]
        for prompt in prompts:
            await slack.slash("/imagine", prompt)
        last = await status_of(slack, prompts[-1])
        provider.gate.set()
        await slack.fake.next_upload(len(prompts))
        await slack.delivered()
        per_message: dict[str, list[tuple[float, str]]] = {}
        for call in slack.fake.calls:
            line = [e["text"] for b in call.args.get("blocks") or [] if b.get("block_id") == "sb_status"
                    for e in b["elements"]]
            if not line or call.error:
                continue
            ts = call.args.get("ts") or next(m["ts"] for m in slack.fake.channels[CHANNEL]
                                             if m.get("metadata", {}).get("event_payload") ==
                                             call.args["metadata"]["event_payload"])
            per_message.setdefault(ts, []).append((call.at, line[0]))
    assert len(per_message) == len(prompts) and last["ts"] in per_message
    for edits in per_message.values():
        assert len(edits) <= 3  # whatever the queue depth: a position or two, then "generating"
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(edits)]
        assert all(gap >= 0.35 for gap in gaps), gaps  # at most one edit per message every interval
        positions = [int(m[1]) for _, line in edits if (m := re.search(r"#(\d+) in line", line))]
        assert positions == sorted(positions, reverse=True)
    print(f"\nprogress calls for {len(prompts)} queued jobs: {sum(map(len, per_message.values()))}")
