"""Masks and references on Slack: a mask through the Edit modal's file input, "Imagine from this image",
and ``/imagine`` in a thread that has an image."""

from __future__ import annotations

from io import BytesIO

from PIL import Image

from adapters.slack.references import EXPIRED
from core.requests import EditRequest, ImagineRequest
from tests.adapters.slack.conftest import ALICE, BOB, CHANNEL, Rig, image_of, png
from tests.fakes.slack import BOT_TOKEN


def half_mask(width: int, height: int) -> bytes:
    """Black (keep) on the left, white (change) on the right."""
    mask = Image.new("L", (width, height), 0)
    mask.paste(255, (width // 2, 0, width, height))
    out = BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


async def test_a_mask_from_the_edit_modal_keeps_the_black_part_untouched(slack: Rig) -> None:
    photo = await slack.share_image(png(320, 240, (200, 30, 30)), user=BOB, notify=False)
    await slack.shortcut(photo)
    opened = await slack.opened_view()
    assert [b["block_id"] for b in opened["view"]["blocks"]] == ["instruction", "mask"]
    mask_input = opened["view"]["blocks"][1]
    assert mask_input["optional"] is True and mask_input["element"]["type"] == "file_input"

    mask = slack.fake.user_file(half_mask(320, 240))
    status, _, _ = await slack.submit_view(opened["view"], "paint the right side blue", mask=mask)
    assert status == 200
    upload = await slack.fake.next_upload()
    edited = image_of(upload.content).convert("RGB")
    assert edited.size == (320, 240)
    assert edited.getpixel((20, 120)) == (200, 30, 30)  # kept: the mask is black there
    assert edited.getpixel((300, 120)) != (200, 30, 30)
    [job] = await slack.jobs()
    assert isinstance(job.request, EditRequest) and job.request.mask is not None
    assert [c.args["file"] for c in slack.fake.calls_to("download")] == [photo["files"][0]["id"], mask["id"]]
    assert {c.token for c in slack.fake.calls_to("download")} == {BOT_TOKEN}


async def test_imagine_from_this_image_uses_the_picture_as_a_reference(slack: Rig) -> None:
    photo = await slack.share_image(png(256, 256), user=BOB, notify=False)
    status, _, _ = await slack.shortcut(photo, callback_id="imagine_from_image")
    assert status == 200
    opened = await slack.opened_view()
    assert opened["view"]["callback_id"] == "sb_imagine_modal"
    await slack.submit_view(opened["view"], "the same scene as a watercolour --aspect 16:9")
    upload = await slack.fake.next_upload()
    assert upload.thread_ts == photo["ts"] and image_of(upload.content).width > image_of(upload.content).height
    [job] = await slack.jobs()
    assert isinstance(job.request, ImagineRequest) and len(job.request.references) == 1
    assert job.request.prompt == "the same scene as a watercolour"


async def test_imagine_in_a_thread_with_an_image_offers_to_use_it(slack: Rig) -> None:
    photo = await slack.share_image(png(200, 200))
    status, _, body = await slack.slash("/imagine", "a castle on top", thread_ts=photo["ts"])
    assert (status, body) == (200, "")
    offer = await slack.fake.next_ephemeral()
    assert offer["user"] == ALICE and offer["thread_ts"] == photo["ts"]
    offer_message = {"ts": "1700000009.000001", "blocks": offer["blocks"]}
    assert await slack.jobs() == []

    await slack.click("sb_use_parent", offer_message)
    [answer] = await slack.fake.wait_for(lambda: slack.fake.responses)
    assert answer["delete_original"] is True  # the question goes; the visible status takes over
    upload = await slack.fake.next_upload()
    assert upload.thread_ts == photo["ts"]
    [job] = await slack.jobs()
    assert isinstance(job.request, ImagineRequest) and len(job.request.references) == 1
    assert slack.fake.calls_to("conversations.replies") == []  # the image came from the message event

    await slack.click("sb_use_parent", offer_message)  # a second click: the offer is used up
    await slack.fake.wait_for(lambda: len(slack.fake.responses) == 2)
    assert slack.fake.responses[-1]["text"] == EXPIRED and len(await slack.jobs()) == 1


async def test_just_the_prompt_draws_without_the_thread_image(slack: Rig) -> None:
    photo = await slack.share_image(png(200, 200))
    await slack.slash("/imagine", "a castle", thread_ts=photo["ts"])
    offer = await slack.fake.next_ephemeral()
    await slack.click("sb_skip_parent", {"ts": "1700000009.000001", "blocks": offer["blocks"]})
    await slack.fake.next_upload()
    [job] = await slack.jobs()
    assert isinstance(job.request, ImagineRequest) and job.request.references == ()


async def test_imagine_in_a_thread_without_an_image_just_draws(slack: Rig) -> None:
    parent = slack.fake.post_text(CHANNEL, "ideas?")
    await slack.slash("/imagine", "a castle", thread_ts=parent["ts"])
    upload = await slack.fake.next_upload()
    assert upload.thread_ts == parent["ts"]
    assert await slack.status_posts()  # a visible status, not an ephemeral
