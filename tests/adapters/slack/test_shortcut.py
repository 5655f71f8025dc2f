"""The Edit image message shortcut: a modal asks what to change, the edit lands in that message's thread."""

from __future__ import annotations

from adapters.slack.interactions import NO_IMAGE
from tests.adapters.slack.conftest import ALICE, BOB, CHANNEL, Rig, image_of, png
from tests.fakes.slack import BOT_TOKEN


async def test_shortcut_then_modal_edits_the_image_in_its_thread(slack: Rig) -> None:
    photo = await slack.share_image(png(300, 300), user=BOB, notify=False)
    status, _, _ = await slack.shortcut(photo, user=ALICE)
    assert status == 200
    opened = await slack.opened_view()
    assert opened["view"]["title"]["text"] == "Edit image"

    status, _, _ = await slack.submit_view(opened["view"], "turn it into a watercolour")
    assert status == 200
    upload = await slack.fake.next_upload()
    assert upload.channel == CHANNEL and upload.thread_ts == photo["ts"]
    assert image_of(upload.content).format == "PNG"
    assert [c.token for c in slack.fake.calls_to("download")] == [BOT_TOKEN]
    [job] = await slack.jobs()
    assert job.requester.user_id == ALICE and job.parent_id is None
    assert slack.fake.calls_to("conversations.replies") == []  # the shortcut payload carries the message


async def test_shortcut_on_a_reply_in_a_thread_posts_in_that_thread(slack: Rig) -> None:
    root = slack.fake.post_text(CHANNEL, "look at these")
    photo = slack.fake.post_file(CHANNEL, png(), thread_ts=root["ts"])
    await slack.shortcut(photo)
    await slack.submit_view((await slack.opened_view())["view"], "make it brighter")
    upload = await slack.fake.next_upload()
    assert upload.thread_ts == root["ts"]


async def test_shortcut_on_a_message_without_an_image_says_so(slack: Rig) -> None:
    message = slack.fake.post_text(CHANNEL, "just words")
    await slack.shortcut(message, user=BOB)
    note = await slack.fake.next_ephemeral()
    assert note["user"] == BOB and note["text"] == NO_IMAGE
    assert slack.fake.views == []


async def test_shortcut_on_the_bots_own_result_chains_from_it(slack: Rig) -> None:
    await slack.slash("/imagine", "a lighthouse")
    first = await slack.fake.next_upload()
    await slack.buttons_under(first)
    message = next(m for m in slack.fake.channels[CHANNEL] if m["ts"] == first.ts)
    await slack.shortcut(message)
    await slack.submit_view((await slack.opened_view())["view"], "make it stormy")
    await slack.fake.next_upload(2)
    imagine, edit = await slack.jobs()
    assert edit.parent_id == imagine.id
    assert slack.fake.calls_to("download") == []  # our own result is read from disk
