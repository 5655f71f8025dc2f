"""Hostile lines through Slack's slash commands: the requester alone reads a plain refusal; nothing is queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adapters.slack.conftest import ALICE, Rig, png, running
from tests.hostile import samples
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


async def refusal(slack: Rig) -> str:
    """The first ephemeral that is not a "working on it" note."""
    count = 1
    while (text := str((await slack.fake.next_ephemeral(count))["text"])).startswith("Working on it"):
        count += 1
    return text


@pytest.mark.parametrize(("sample", "words"), [("png-bomb", "too large"), ("svg", "web page"),
                                               ("truncated-png", "damaged"), ("zlib-bomb", "too large")])
async def test_a_shared_file_that_lies_about_being_a_png(slack: Rig, sample: str, words: str) -> None:
    photo = await slack.share_image(samples.NOT_IMAGES[sample](), name="photo.png", mimetype="image/png")
    await slack.mention("make it night", thread_ts=photo["ts"])
    message = await refusal(slack)
    assert words in message and not LIVE.search(message)
    assert await slack.jobs() == []
    assert slack.fake.completed_uploads() == []


async def test_a_file_over_the_input_cap_is_refused_before_download(tmp_path: Path) -> None:
    async with running(tmp_path, max_input_mb=0.0001) as slack:
        photo = await slack.share_image(png(200, 200), name="photo.png")
        await slack.mention("make it night", thread_ts=photo["ts"])
        assert "larger than 104 bytes" in await refusal(slack)
        assert slack.fake.calls_to("download") == []
        assert await slack.jobs() == []
