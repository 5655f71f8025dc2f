"""The Blend images message shortcut, and --count/--size in the Slack text grammar."""

from __future__ import annotations

from typing import Any

from adapters.slack.blend import BLEND_SHORTCUT
from core.requests import BlendRequest, ImagineRequest, Parent
from tests.adapters.slack.conftest import ALICE, CHANNEL, Rig, image_of, png


def two_image_message(slack: Rig, text: str) -> dict[str, Any]:
    first = slack.fake.post_file(CHANNEL, png(64, 64, (250, 0, 0)), name="cat.png", text=text)
    second = slack.fake.post_file(CHANNEL, png(64, 64, (0, 0, 250)), name="style.png")
    first["files"] = first["files"] + second["files"]  # one message carrying both pictures
    return first


async def test_blend_shortcut_blends_every_image_in_order_with_the_message_text(slack: Rig) -> None:
    message = two_image_message(slack, "the cat in the style of the second")
    await slack.shortcut(message, user=ALICE, callback_id=BLEND_SHORTCUT)
    upload = await slack.fake.next_upload()
    assert upload.channel == CHANNEL and upload.thread_ts == message["ts"]
    assert image_of(upload.content).size == (1024, 1024)
    [job] = await slack.jobs()
    assert isinstance(job.request, BlendRequest)
    assert job.request.names == ("cat.png", "style.png")
    assert job.request.instruction == "the cat in the style of the second"


async def test_blend_shortcut_on_one_image_says_why_not(slack: Rig) -> None:
    photo = slack.fake.post_file(CHANNEL, png())
    await slack.shortcut(photo, callback_id=BLEND_SHORTCUT)
    note = await slack.fake.next_ephemeral()
    assert note["text"] == "A blend needs a message with 2 or more images; this one has 1."


async def test_imagine_count_and_size_make_a_grid(slack: Rig) -> None:
    await slack.slash("/imagine", "a red fox --count 2 --size 512")
    upload = await slack.fake.next_upload()
    assert image_of(upload.content).size == (1024, 512)  # two 512x512 cells side by side
    [job] = await slack.jobs()
    assert isinstance(job.request, ImagineRequest) and (job.request.count, job.request.size) == (2, "512")


async def test_grid_buttons_take_vary_and_upscale(slack: Rig) -> None:
    await slack.slash("/imagine", "a red fox --count 4")
    grid = await slack.fake.next_upload()
    assert image_of(grid.content).size == (2048, 2048)
    buttons = await slack.buttons_under(grid)
    labels = [e["text"]["text"] for b in buttons["blocks"] for e in b.get("elements", []) if e.get("type") == "button"]
    assert labels == ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", "Re-roll", "Delete"]

    await slack.click("sb_u_2", buttons)
    picked = await slack.fake.next_upload(2)
    [grid_job, pick_job] = await slack.jobs()
    cell, _ = await slack.studio.candidate(grid_job, 2)
    assert picked.content == cell  # byte for byte
    assert await slack.studio.parents(pick_job.id) == [Parent(grid_job.id, 2)]
    under = await slack.buttons_under(picked)
    assert [e["text"]["text"] for b in under["blocks"] for e in b.get("elements", []) if e.get("type") == "button"] == [
        "Retry", "Edit", "Vary", "Upscale to 2K", "Delete"]

    await slack.click("sb_upscale", under)
    big = await slack.fake.next_upload(3)
    assert image_of(big.content).size == (2048, 2048)
    await slack.click("sb_v_3", buttons)
    await slack.fake.next_upload(4)
