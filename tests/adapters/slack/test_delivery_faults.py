"""A result post that meets a platform fault still ends as exactly one result, with no false error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.slack.ledger import RESULT_EVENT
from core.jobs.model import Delivery, Job
from tests.adapters.slack.conftest import CHANNEL, Rig

# The live status message is edited into the result (chat.update): an image shown by an image block with its
# buttons; speech's status keeps the buttons and the file is shared under it.
FAULTS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "500 on completing the upload": ("status", "POST", r"files\.completeUploadExternal", {"status": 500}),
    "429 on asking for an upload URL": ("status", "*", r"files\.getUploadURLExternal",
                                        {"status": 429, "retry_after": 1}),
    "dropped before the bytes were stored": ("drop_before", "POST", r"^/upload/", {}),
    "dropped after Slack stored the file": ("drop_after", "POST", r"files\.completeUploadExternal", {}),
    "dropped after the result was shown": ("drop_after", "POST", r"chat\.update", {}),
    "500 on showing the result": ("status", "POST", r"chat\.update", {"status": 500}),
}


async def settled(rig: Rig) -> list[Job]:
    """Once the command has made its job and that job's delivery is final."""
    await rig.fake.wait_for(lambda: rig.fake.calls_to("chat.postEphemeral") or rig.fake.uploads)
    async with asyncio.timeout(20):
        while not await rig.jobs():
            await asyncio.sleep(0.02)
    return await rig.delivered()


def results_in(rig: Rig, job_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The file shares and the buttons messages of one job, as the channel shows them."""
    messages = rig.fake.channels.get(CHANNEL, [])
    files = [m for m in messages if any(job_id in f["name"] for f in m.get("files", []))]
    buttons = [m for m in messages if (m.get("metadata") or {}).get("event_type") == RESULT_EVENT
               and m["metadata"]["event_payload"]["job_id"] == job_id]
    return files, buttons


@pytest.mark.parametrize("command", ["/imagine", "/speak"])
@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
async def test_one_fault_on_the_result_post_still_gives_exactly_one_result(slack: Rig, fault: str,
                                                                           command: str) -> None:
    kind, method, path, options = FAULTS[fault]
    armed = slack.fake.faults.arm(kind, method, path, **options)
    await slack.slash(command, "a lighthouse")
    [job] = await settled(slack)
    assert armed.hits == 1
    assert job.delivery is Delivery.DELIVERED
    files, buttons = results_in(slack, job.id)
    assert len(buttons) == 1
    if command == "/imagine":  # one message: the image (an unshared upload) and its buttons
        assert files == [] and [b["type"] for b in buttons[0]["blocks"]] == ["section", "image", "actions"]
        assert job.delivered_ref == f"{CHANNEL}:{buttons[0]['ts']}"
    else:
        assert len(files) == 1 and job.delivered_ref == f"{CHANNEL}:{files[0]['ts']}"
    assert not [m for m in slack.fake.channels[CHANNEL] if "sb_cancel" in str(m.get("blocks"))]  # no stale status
    assert slack.fake.ephemerals == []  # no "Slack wouldn't let me post it" beside the result
    outcomes = [a[0] for a in await slack.studio.journal.attempts_of(job.id)]
    assert outcomes[-1] in ("posted", "reconciled")


async def test_a_channel_the_bot_cannot_post_in_ends_undeliverable_and_says_why(slack: Rig) -> None:
    slack.fake.outside.add(CHANNEL)
    await slack.slash("/imagine", "a lighthouse")
    [job] = await settled(slack)
    assert job.delivery is Delivery.UNDELIVERABLE and job.error == "not_in_channel"
    [told] = await slack.fake.wait_for(lambda: slack.fake.responses)
    assert "/invite @Studiobot" in told["text"]
    assert [a[0] for a in await slack.studio.journal.attempts_of(job.id)] == ["refused"]
