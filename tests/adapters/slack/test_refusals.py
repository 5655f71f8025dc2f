"""What a user sees when something is refused: plain words, only to them; and what Slack's checks refuse."""

from __future__ import annotations

import re
import time
from pathlib import Path

from emulator.app import Emulator
from emulator.faults import Fault
from tests.adapters.slack.conftest import ALICE, CHANNEL, Rig, gemini_overrides, running

LIVE = re.compile(r"<[!@#]|(?<![\w\u200b])@(channel|here|everyone)\b")


async def test_a_bad_flag_is_explained_in_the_ack(slack: Rig) -> None:
    status, _, body = await slack.slash("/speak", "--colour red hello")
    assert status == 200
    assert body.startswith("/speak has no option --colour.")
    assert await slack.jobs() == []


async def test_an_invalid_request_is_an_ephemeral_for_the_requester(slack: Rig) -> None:
    await slack.slash("/imagine", "a cat --aspect 7:3")
    note = await slack.fake.next_ephemeral()
    assert note["user"] == ALICE and note["channel"] == CHANNEL
    assert "7:3" in note["text"] and "16:9" in note["text"]
    assert slack.fake.completed_uploads() == []


async def test_a_safety_block_is_an_ephemeral_in_plain_words(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Fault.blocked("PROHIBITED_CONTENT"))
    async with running(tmp_path, **gemini_overrides(emulator)) as slack:
        status, _, _ = await slack.slash("/imagine", "something forbidden")
        assert status == 200
        note = await slack.fake.next_ephemeral()
        assert note["user"] == ALICE
        assert note["text"] == "The model declined this request (prohibited content). Try rewording it."
        assert slack.fake.completed_uploads() == []


async def test_broadcast_mentions_in_a_prompt_never_go_live(slack: Rig) -> None:
    await slack.slash("/imagine", "<!channel> party for <@U0BOSS> and @here <!subteam^S1|@devs> & more")
    upload = await slack.fake.next_upload()
    await slack.buttons_under(upload)
    await slack.slash("/speak", "--voice nobody <!everyone> listen")  # the refusal echoes the voice
    await slack.fake.next_ephemeral()
    texts = slack.fake.posted_texts()
    assert texts and not [(LIVE.search(t), t) for t in texts if LIVE.search(t)]
    job = (await slack.jobs())[0]
    assert job.request.prompt == "@channel party for @U0BOSS and @here @devs & more"  # type: ignore[union-attr]


async def test_a_bad_signature_is_refused_and_nothing_generated(slack: Rig) -> None:
    status, _, _ = await slack.slash("/imagine", "a cat", secret="not-the-secret")
    assert status == 401
    assert await slack.jobs() == []
    assert [c.method for c in slack.fake.calls if c.method not in ("auth.test", "apps.connections.open")] == []


async def test_a_stale_timestamp_is_refused(slack: Rig) -> None:
    status, _, _ = await slack.slash("/imagine", "a cat", timestamp=int(time.time()) - 600)
    assert status == 401
    assert await slack.jobs() == []
