"""Hostile lines through Slack's slash commands: the requester alone reads a plain refusal; nothing is queued."""

from __future__ import annotations

import pytest

from tests.adapters.slack.conftest import ALICE, Rig
from tests.hostile.lines import IMAGINE, LIVE, SPEAK

LINES = [(f"speak-{i}", "/speak", t, w) for i, t, w in SPEAK if "\x00" not in t] + [
    (f"imagine-{i}", "/imagine", t, w) for i, t, w in IMAGINE[:4]]


@pytest.mark.parametrize(("command", "text", "words"), [(c, t, w) for _, c, t, w in LINES],
                         ids=[i for i, _, _, _ in LINES])
async def test_a_hostile_line_is_refused_plainly(slack: Rig, command: str, text: str, words: str) -> None:
    status, _, body = await slack.slash(command, text)
    assert status == 200
    message = body  # a parse error is the ack itself; a validation error follows as an ephemeral
    if words.lower() not in body.lower():
        message = (await slack.fake.next_ephemeral())["text"]
    assert words.lower() in message.lower(), message
    assert not LIVE.search(message), message
    assert "Traceback" not in message
    assert await slack.jobs() == []
    assert slack.fake.completed_uploads() == []
    assert [t for t in slack.fake.posted_texts() if LIVE.search(t)] == []


async def test_an_ephemeral_refusal_goes_to_the_requester_only(slack: Rig) -> None:
    await slack.slash("/imagine", "?!...")
    note = await slack.fake.next_ephemeral()
    assert note["user"] == ALICE
    assert "nothing to say" in note["text"]
