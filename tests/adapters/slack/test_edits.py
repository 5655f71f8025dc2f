"""Mentioning the bot in an image's thread edits the image; under its own result, edits chain."""

from __future__ import annotations

import asyncio

from core.requests import EditRequest
from tests.adapters.slack.conftest import ALICE, CHANNEL, Rig, image_of, png
from tests.fakes.slack import BOT_TOKEN


async def test_a_mention_under_a_shared_image_edits_it_in_the_thread(slack: Rig) -> None:
    photo = await slack.share_image(png(400, 300))
    status, _, _ = await slack.mention("make it night", thread_ts=photo["ts"])
    assert status == 200

    upload = await slack.fake.next_upload()
    assert upload.channel == CHANNEL and upload.thread_ts == photo["ts"]
    assert await slack.request_shown(upload) == "Edit: make it night"
    assert image_of(upload.content).format == "PNG"
    downloads = slack.fake.calls_to("download")
    assert [(c.args["file"], c.token) for c in downloads] == [(photo["files"][0]["id"], BOT_TOKEN)]
    assert slack.fake.calls_to("conversations.replies") == []  # the message event told us about the file
    assert await slack.status_posts()  # a visible status, not an ephemeral


async def test_without_the_message_event_the_parent_is_read_once_from_the_api(slack: Rig) -> None:
    photo = await slack.share_image(png(), notify=False)
    await slack.mention("add a hat", thread_ts=photo["ts"])
    upload = await slack.fake.next_upload()
    assert upload.thread_ts == photo["ts"]
    [call] = slack.fake.calls_to("conversations.replies")
    assert call.args["ts"] == photo["ts"] and int(call.args["limit"]) == 1


async def test_edits_under_the_bots_own_results_chain_without_downloads_or_history(slack: Rig) -> None:
    await slack.slash("/imagine", "a lighthouse")
    first = await slack.fake.next_upload()
    await slack.buttons_under(first)

    await slack.mention("make it night", thread_ts=first.ts)
    second = await slack.fake.next_upload(2)
    assert second.thread_ts == first.ts
    await slack.buttons_under(second)

    await slack.mention("add a moon", thread_ts=first.ts)
    third = await slack.fake.next_upload(3)
    assert third.thread_ts == first.ts
    imagine, edit1, edit2 = await slack.jobs()
    assert edit1.parent_id == imagine.id and edit2.parent_id == edit1.id  # the chain follows the latest result
    assert isinstance(edit2.request, EditRequest) and edit2.request.instruction == "add a moon"
    assert slack.fake.calls_to("download") == [] and slack.fake.calls_to("conversations.replies") == []


async def test_a_private_file_answered_with_html_is_refused(slack: Rig) -> None:
    photo = await slack.share_image(png())
    slack.fake.files[photo["files"][0]["id"]].revoked = True  # Slack answers its sign-in page
    await slack.mention("make it night", thread_ts=photo["ts"])
    note = await slack.fake.next_ephemeral()
    assert note["user"] == ALICE and note["thread_ts"] == photo["ts"]
    assert "web page instead of the image" in note["text"]
    assert await slack.jobs() == [] and slack.fake.completed_uploads() == []


async def test_a_mention_under_a_non_image_file_says_so(slack: Rig) -> None:
    pdf = await slack.share_image(b"%PDF-1.4 not an image", name="report.pdf", mimetype="application/pdf")
    await slack.mention("make it night", thread_ts=pdf["ts"])
    note = await slack.fake.next_ephemeral()
    assert note["text"] == "That message has a file, but it isn't an image (application/pdf). I can only edit images."
    assert await slack.jobs() == [] and slack.fake.calls_to("download") == []


async def test_a_mention_outside_any_thread_explains_itself(slack: Rig) -> None:
    await slack.mention("hello")
    note = await slack.fake.next_ephemeral()
    assert note["text"].startswith("Mention me in the thread of an image")
    assert await slack.jobs() == []


async def test_the_same_event_delivered_three_times_makes_one_edit(slack: Rig) -> None:
    photo = await slack.share_image(png())
    body = slack.event_body(slack.mention_event("make it night", thread_ts=photo["ts"]), event_id="Ev0REPEAT")
    answers = await asyncio.gather(slack.sender.event(body), slack.sender.event(body, retry=1),
                                   slack.sender.event(body, retry=2))
    assert [status for status, _, _ in answers] == [200, 200, 200]
    await slack.fake.next_upload()
    await slack.sender.event(body, retry=3)  # even after the result was posted
    await asyncio.sleep(0.3)
    assert len(await slack.jobs()) == 1
    assert len(slack.fake.completed_uploads()) == 1
    assert len(slack.fake.calls_to("download")) == 1


async def test_a_mention_with_an_image_attached_edits_that_image(slack: Rig) -> None:
    photo = slack.fake.post_file(CHANNEL, png(200, 200))
    event = slack.mention_event("make it pop", files=photo["files"])
    await slack.sender.event(slack.event_body(event))
    upload = await slack.fake.next_upload()
    assert upload.thread_ts == event["ts"]  # answered in a thread under the mention
    assert len(slack.fake.calls_to("download")) == 1
