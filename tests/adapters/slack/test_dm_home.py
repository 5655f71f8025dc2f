"""A DM with the bot works like a channel, and the Home tab shows a member's recent results and how to start."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack.handlers import DM_HELP
from core.requests import EditRequest
from tests.adapters.slack.conftest import ALICE, BOB, Rig, image_of, png
from tests.fakes.slack import TEAM

DM = "D0ALICE"


def dm_message(slack: Rig, text: str, *, thread_ts: str | None = None, image: bytes | None = None
               ) -> dict[str, Any]:
    """Alice writes to the bot in their DM; the app gets ``message.im``."""
    if image is not None:
        msg = slack.fake.post_file(DM, image, text=text, thread_ts=thread_ts)
    else:
        msg = slack.fake.post_text(DM, text, thread_ts=thread_ts)
    return {k: v for k, v in msg.items() if k != "channel"} | {"channel": DM, "channel_type": "im"}


async def test_speak_and_imagine_in_a_dm_post_there(slack: Rig) -> None:
    status, _, body = await slack.slash("/speak", "hello from the DM", channel=DM)
    assert (status, body) == (200, "")
    clip = await slack.fake.next_upload()
    assert clip.channel == DM and clip.filename.endswith(".mp3")
    await slack.slash("/imagine", "a quiet harbour", channel=DM)
    image = await slack.fake.next_upload(2)
    assert image.channel == DM and image_of(image.content).format == "PNG"


async def test_an_image_sent_in_a_dm_with_words_is_edited_there(slack: Rig) -> None:
    status, _, _ = await slack.sender.event(slack.event_body(dm_message(slack, "make it night", image=png(200, 200))))
    assert status == 200
    upload = await slack.fake.next_upload()
    assert upload.channel == DM and upload.thread_ts is None
    [job] = await slack.jobs()
    assert isinstance(job.request, EditRequest) and job.request.instruction == "make it night"
    assert await slack.status_posts()  # a visible status, not an ephemeral


async def test_words_in_a_dm_edit_the_latest_result_and_chain(slack: Rig) -> None:
    await slack.slash("/imagine", "a lighthouse", channel=DM)
    first = await slack.fake.next_upload()
    await slack.buttons_under(first, channel=DM)
    await slack.sender.event(slack.event_body(dm_message(slack, "add a storm")))
    edited = await slack.fake.next_upload(2)
    assert edited.channel == DM
    imagine, edit = await slack.delivered()
    assert edit.parent_id == imagine.id and slack.fake.calls_to("download") == []


async def test_words_in_a_dm_without_any_image_get_a_hint(slack: Rig) -> None:
    await slack.sender.event(slack.event_body(dm_message(slack, "hello?")))
    note = await slack.fake.next_ephemeral()
    assert note["channel"] == DM and note["text"] == DM_HELP
    assert await slack.jobs() == []


async def test_the_home_tab_shows_my_recent_results_and_a_how_to(slack: Rig) -> None:
    await slack.slash("/imagine", "a red kite <!channel>")
    await slack.slash("/speak", "bob's words", user=BOB)
    await slack.fake.next_upload(2)
    await slack.delivered()
    opened = {"type": "app_home_opened", "user": ALICE, "channel": DM, "tab": "home", "event_ts": "1700000001.1"}
    status, _, _ = await slack.sender.event(slack.event_body(opened) | {"team_id": TEAM})
    assert status == 200
    home = await slack.fake.wait_for(lambda: slack.fake.homes.get(ALICE))
    assert home["type"] == "home"
    text = json.dumps(home["blocks"])
    assert "How to use Studiobot" in text and "/speak help" in text
    entries = [b["text"]["text"] for b in home["blocks"] if "<!date^" in b.get("text", {}).get("text", "")
               and b.get("block_id") != "sb_usage"]
    assert len(entries) == 1 and "a red kite @\u200bchannel" in entries[0] and "<#C0GENERAL>" in entries[0]
    assert "bob" not in text  # only the member's own results
    [usage] = [b["text"]["text"] for b in home["blocks"] if b.get("block_id") == "sb_usage"]
    assert usage.startswith(":bar_chart: *Today:* 1 request (")
    [call] = slack.fake.calls_to("views.publish")
    assert call.args["user_id"] == ALICE


async def test_the_messages_tab_opening_publishes_nothing(slack: Rig) -> None:
    opened = {"type": "app_home_opened", "user": ALICE, "channel": DM, "tab": "messages", "event_ts": "1700000001.1"}
    await slack.sender.event(slack.event_body(opened))
    await slack.slash("/speak", "--format nope x")  # a round trip later, still nothing published
    assert slack.fake.calls_to("views.publish") == []
