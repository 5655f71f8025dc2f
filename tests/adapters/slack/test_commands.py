"""/speak and /imagine as a Slack user sees them: an ephemeral ack at once, then the file in the channel."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.media import audio
from core.requests import ASPECT_SIZES
from tests.adapters.slack.conftest import ALICE, CHANNEL, Rig, image_of


async def test_speak_acks_then_uploads_an_mp3_that_slack_plays_inline(slack: Rig) -> None:
    status, _, body = await slack.slash("/speak", "--voice Puck Good morning, everyone!")
    assert (status, body) == (200, "")

    upload = await slack.fake.next_upload()
    assert upload.channel == CHANNEL and upload.thread_ts is None
    assert upload.filename.endswith(".mp3") and upload.content[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    speech = await asyncio.to_thread(audio.decode, upload.content)
    heard = len(speech.pcm) / 2 / speech.sample_rate
    assert 0.8 < heard < 6
    job = (await slack.jobs())[-1]
    shown = await slack.studio.result_of(job)
    assert shown is not None and abs(heard - shown.duration_s) < 0.15  # type: ignore[union-attr]
    seconds = round(shown.duration_s)  # type: ignore[union-attr]
    assert upload.title == f"Puck · 0:{seconds:02d}"
    assert await slack.request_shown(upload) == "/speak (Puck): Good morning, everyone!"
    buttons = (await slack.buttons_under(upload))
    assert slack.labels(buttons) == ["Retry", "Delete"]
    job = (await slack.delivered())[-1]
    assert job.delivered_ref == f"{CHANNEL}:{upload.ts}"
    assert job.requester.user_id == ALICE and job.origin.workspace == "T0TEAM"


async def test_the_ack_is_sent_before_the_job_is_submitted(slack: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[tuple[str, float]] = []
    acked = asyncio.Event()
    submit = slack.studio.submit

    async def recording_submit(*args: object, **kwargs: object) -> object:
        await asyncio.wait_for(acked.wait(), 3)  # would deadlock if the ack waited for the submit
        order.append(("submit", time.monotonic()))
        return await submit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(slack.studio, "submit", recording_submit)
    status, _, body = await slack.slash("/imagine", "a lighthouse")
    order.append(("ack", time.monotonic()))
    acked.set()
    assert (status, body) == (200, "")
    await slack.fake.next_upload()
    assert [name for name, _ in order] == ["ack", "submit"]


async def test_speak_in_a_thread_uploads_into_that_thread(slack: Rig) -> None:
    parent = slack.fake.post_text(CHANNEL, "who wants a greeting?")
    await slack.slash("/speak", "hello thread", thread_ts=parent["ts"])
    upload = await slack.fake.next_upload()
    assert upload.thread_ts == parent["ts"]
    assert (await slack.buttons_under(upload)).get("thread_ts") == parent["ts"]


@pytest.mark.parametrize(("option", "magic"), [("ogg", b"OggS"), ("wav", b"RIFF")])
async def test_ogg_and_wav_stay_available_by_option(slack: Rig, option: str, magic: bytes) -> None:
    await slack.slash("/speak", f"--format {option} hello there")
    upload = await slack.fake.next_upload()
    assert upload.filename.endswith(f".{option}") and upload.content[:4] == magic


async def test_two_speakers_make_one_dialogue_clip(slack: Rig) -> None:
    text = "--voice Kore --voice2 Puck\nAna: Ready for the launch?\nBen: Always. Let's go."
    await slack.slash("/speak", text)
    upload = await slack.fake.next_upload()
    assert await slack.request_shown(upload) == ("/speak (Ana (Kore) and Ben (Puck)):\n"
                                      "Ana: Ready for the launch?\nBen: Always. Let's go.")
    speech = await asyncio.to_thread(audio.decode, upload.content)
    assert len(speech.pcm) / 2 / speech.sample_rate > 1.5
    assert upload.title.startswith("Kore & Puck · 0:")
    job = (await slack.jobs())[-1]
    assert [s.voice for s in job.request.speakers] == ["Kore", "Puck"]  # type: ignore[union-attr]


async def test_imagine_with_an_aspect_uploads_a_wide_png(slack: Rig) -> None:
    status, _, _ = await slack.slash("/imagine", "a red fox in the snow --aspect 16:9")
    assert status == 200
    upload = await slack.fake.next_upload()
    png = image_of(upload.content)
    assert png.format == "PNG" and png.size == ASPECT_SIZES["16:9"]
    assert await slack.request_shown(upload) == "/imagine (16:9): a red fox in the snow"
    result = await slack.buttons_under(upload)
    assert slack.labels(result) == ["Retry", "Edit", "Vary", "Upscale to 2K", "Delete"]
    # one tidy message: the request once, the image itself (an unshared upload), the buttons
    section, image, _ = result["blocks"]
    assert section["text"]["text"] == "/imagine (16:9): a red fox in the snow"
    assert image["type"] == "image" and image["slack_file"] == {"id": upload.file_id}
    assert result["ts"] == upload.ts and result["metadata"]["event_type"] == "studiobot_result"
    assert [c.args.get("channel_id") for c in slack.fake.calls_to("files.completeUploadExternal")] == [None]
    mine = [m for m in slack.fake.channels[CHANNEL] if m.get("bot_id")]
    assert mine == [result]  # the status message became the result
    assert "studiobot-" in upload.filename and (await slack.jobs())[-1].id in upload.filename


async def test_help_is_an_ephemeral_answer_and_nothing_is_queued(slack: Rig) -> None:
    _, _, speak_help = await slack.slash("/speak", "help")
    _, _, imagine_help = await slack.slash("/imagine", "help")
    assert speak_help.startswith("/speak [--voice NAME]") and "--voice2" in speak_help
    assert imagine_help.startswith("/imagine [--aspect W:H]")
    assert await slack.jobs() == []
    assert slack.fake.calls_to("files.getUploadURLExternal") == []


async def test_when_slack_shares_the_upload_late_the_ref_comes_from_files_info(slack: Rig) -> None:
    slack.fake.share_async = True
    await slack.slash("/speak", "a kite")
    upload = await slack.fake.next_upload()
    await slack.buttons_under(upload)
    assert slack.fake.calls_to("files.info")
    assert (await slack.delivered())[-1].delivered_ref == f"{CHANNEL}:{upload.ts}"


async def test_a_channel_the_bot_is_not_in_gets_an_invite_hint_through_the_response_url(slack: Rig) -> None:
    slack.fake.outside.add("C0SECRET")
    status, _, body = await slack.slash("/speak", "hello", channel="C0SECRET")
    assert (status, body) == (200, "")
    [response] = await slack.fake.wait_for(lambda: slack.fake.responses)
    assert response["response_type"] == "ephemeral" and "/invite @Studiobot" in response["text"]
    assert slack.fake.completed_uploads() == []
