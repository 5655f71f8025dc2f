"""The real google-genai client against the emulator: speech, images, edits, and every fault."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from PIL import Image

from core.errors import InputError, ProviderTimeout, ProviderUnavailable, RateLimited, SafetyBlocked, StudioError
from core.media import audio
from core.requests import EditRequest, ImagineRequest, Request, Speaker, SpeakRequest
from core.results import AudioClip, ImageResult, Result
from core.studio import open_studio
from emulator.app import Emulator
from emulator.faults import Fault
from tests.core.conftest import ORIGIN, REQUESTER, gemini_settings


async def generate(tmp_path: Path, emulator: Emulator, request: Request, **settings: object) -> Result:
    async with open_studio(gemini_settings(tmp_path, emulator, **settings)) as studio:
        return await studio.run(request, REQUESTER, ORIGIN)


def png(size: tuple[int, int], colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def image_of(result: Result) -> Image.Image:
    assert isinstance(result, ImageResult)
    return Image.open(io.BytesIO(result.data))


def seconds_of(result: Result) -> float:
    assert isinstance(result, AudioClip)
    assert result.data[:4] == b"OggS"
    return audio.decode(result.data).duration_s


# -- speech ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gemini-3.8-flash-tts", "gemini-2.5-flash-preview-tts"])
async def test_speech_in_both_tts_generations(tmp_path: Path, emulator: Emulator, model: str) -> None:
    clip = await generate(tmp_path, emulator, SpeakRequest("Hello from the studio", voice="Puck"), tts_model=model)
    assert 0.6 < seconds_of(clip) < 4
    assert clip.duration_s == pytest.approx(seconds_of(clip), abs=0.1)
    body = emulator.calls[-1].body
    assert body["generationConfig"]["responseModalities"] == ["AUDIO"]
    voice = body["generationConfig"]["speechConfig"]["voice_config"]["prebuilt_voice_config"]["voice_name"]
    assert voice == "Puck"


async def test_style_goes_in_metadata_on_38_and_in_the_prompt_on_25(tmp_path: Path, emulator: Emulator) -> None:
    request = SpeakRequest("Goal!", style="like a sports commentator")
    await generate(tmp_path, emulator, request, tts_model="gemini-3.8-flash-tts")
    part = emulator.calls[-1].body["contents"][0]["parts"][0]
    assert part["text"] == "Goal!"
    assert part["speechMetadata"]["style"] == "like a sports commentator"
    await generate(tmp_path / "b", emulator, request, tts_model="gemini-2.5-flash-preview-tts")
    part = emulator.calls[-1].body["contents"][0]["parts"][0]
    assert "like a sports commentator" in part["text"]
    assert part["text"].endswith("Goal!")


@pytest.mark.parametrize("model", ["gemini-3.8-flash-tts", "gemini-3.1-flash-tts-preview"])
async def test_two_speakers(tmp_path: Path, emulator: Emulator, model: str) -> None:
    script = "Joe: How's it going today, Jane?\nJane: Not too bad, how about you?"
    one = await generate(tmp_path, emulator, SpeakRequest("How's it going today, Jane?"), tts_model=model)
    two = await generate(tmp_path / "b", emulator, SpeakRequest(script, voice="Kore"), tts_model=model)
    assert seconds_of(two) > seconds_of(one)
    configs = emulator.calls[-1].body["generationConfig"]["speechConfig"]["multi_speaker_voice_config"]
    assert [c["speaker"] for c in configs["speaker_voice_configs"]] == ["Joe", "Jane"]


async def test_explicit_speakers_pick_the_voices(tmp_path: Path, emulator: Emulator) -> None:
    request = SpeakRequest("A: hi\nB: hello", speakers=(Speaker("A", "charon"), Speaker("B", "zephyr")))
    await generate(tmp_path, emulator, request)
    configs = emulator.calls[-1].body["generationConfig"]["speechConfig"]["multi_speaker_voice_config"]
    voices = [c["voice_config"]["prebuilt_voice_config"]["voice_name"] for c in configs["speaker_voice_configs"]]
    assert voices == ["Charon", "Zephyr"]


# -- images ------------------------------------------------------------------------------------------------


async def test_imagine_honours_the_aspect_ratio(tmp_path: Path, emulator: Emulator) -> None:
    img = image_of(await generate(tmp_path, emulator, ImagineRequest("a red fox", aspect="16:9")))
    assert img.size == (1344, 768)
    assert emulator.calls[-1].body["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"


async def test_jpeg_labelled_png_is_reported_as_jpeg(tmp_path: Path, emulator: Emulator) -> None:
    result = await generate(tmp_path, emulator, ImagineRequest("a fox"), image_model="gemini-3-pro-image")
    assert isinstance(result, ImageResult)
    assert result.mime_type == "image/jpeg"
    assert result.extension == "jpg"


async def test_reference_images_are_sent_before_the_prompt(tmp_path: Path, emulator: Emulator) -> None:
    await generate(tmp_path, emulator, ImagineRequest("in this style", references=(png((64, 64)),)))
    parts = emulator.calls[-1].body["contents"][0]["parts"]
    assert "inlineData" in parts[0]
    assert parts[-1]["text"] == "in this style"


async def test_edit_changes_the_source(tmp_path: Path, emulator: Emulator) -> None:
    source = png((640, 480))
    img = image_of(await generate(tmp_path, emulator, EditRequest(source, "make it night")))
    assert img.size == (640, 480)
    assert img.convert("RGB").getpixel((320, 100)) != (200, 40, 40)


async def test_masked_edit_keeps_the_source_outside_the_mask(tmp_path: Path, emulator: Emulator) -> None:
    source = png((400, 400))
    mask = Image.new("L", (200, 200), 0)  # another size than the source: resized
    mask.paste(255, (100, 0, 200, 200))  # right half = change
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    img = image_of(await generate(tmp_path, emulator, EditRequest(source, "make it night", mask=buf.getvalue())))
    rgb = img.convert("RGB")
    assert rgb.getpixel((20, 200)) == (200, 40, 40)
    assert rgb.getpixel((380, 200)) != (200, 40, 40)


async def test_outputs_are_reencoded_to_fit_the_budget(tmp_path: Path, emulator: Emulator) -> None:
    result = await generate(tmp_path, emulator, ImagineRequest("a fox", max_bytes=20_000))
    assert isinstance(result, ImageResult)
    assert len(result.data) <= 20_000
    assert image_of(result).width > 0


# -- faults ------------------------------------------------------------------------------------------------

SPEAK = SpeakRequest("hello")
IMAGINE = ImagineRequest("a fox")


@pytest.mark.parametrize(
    "fault",
    [Fault.http(429, retry_delay="0.05s"), Fault.http(500), Fault.http(503), Fault.http(504), Fault.malformed(),
     Fault.drop(), Fault.finish("OTHER"), Fault.text_only(), Fault.latency(3)],
    ids=["429", "500", "503", "504", "malformed", "drop", "other-empty", "text-only", "timeout"],
)
async def test_transient_faults_are_retried(tmp_path: Path, emulator: Emulator, fault: Fault) -> None:
    emulator.script(fault)
    result = await generate(tmp_path, emulator, IMAGINE, gemini_timeout_s=1)
    assert image_of(result).size == (1024, 1024)
    assert len(emulator.calls) == 2


async def test_empty_audio_is_retried_once(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Fault.empty_audio())
    assert seconds_of(await generate(tmp_path, emulator, SPEAK)) > 0.2
    assert len(emulator.calls) == 2


@pytest.mark.parametrize(
    ("fault", "error", "attempts"),
    [
        (Fault.http(503), ProviderUnavailable, 3),
        (Fault.http(429, retry_delay="0.01s"), RateLimited, 3),
        (Fault.latency(3), ProviderTimeout, 3),
        (Fault.finish("OTHER"), ProviderUnavailable, 2),
        (Fault.text_only("I can't draw that."), ProviderUnavailable, 2),
    ],
    ids=["503", "429", "timeout", "other-empty", "text-only"],
)
async def test_persistent_faults_end_in_a_core_error_after_bounded_attempts(
    tmp_path: Path, emulator: Emulator, fault: Fault, error: type[StudioError], attempts: int
) -> None:
    emulator.script(*[fault] * 5)
    with pytest.raises(error) as caught:
        await generate(tmp_path, emulator, IMAGINE, gemini_attempts=3, gemini_timeout_s=1)
    assert len(emulator.calls) == attempts
    assert caught.value.user_message


async def test_text_only_refusal_quotes_the_model(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Fault.text_only("I can't draw that."), Fault.text_only("I can't draw that."))
    with pytest.raises(ProviderUnavailable, match="I can't draw that"):
        await generate(tmp_path, emulator, IMAGINE)


@pytest.mark.parametrize(
    ("fault", "category"),
    [(Fault.blocked("PROHIBITED_CONTENT"), "PROHIBITED_CONTENT"), (Fault.finish("SAFETY"), "SAFETY"),
     (Fault.finish("IMAGE_SAFETY"), "IMAGE_SAFETY"), (Fault.finish("PROHIBITED_CONTENT"), "PROHIBITED_CONTENT")],
)
async def test_safety_blocks_are_never_retried(tmp_path: Path, emulator: Emulator, fault: Fault,
                                               category: str) -> None:
    emulator.script(fault, fault)
    with pytest.raises(SafetyBlocked) as caught:
        await generate(tmp_path, emulator, IMAGINE)
    assert caught.value.category == category
    assert len(emulator.calls) == 1


async def test_the_server_retry_delay_is_honoured(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Fault.http(429, retry_delay="0.4s"))
    import time

    start = time.monotonic()
    await generate(tmp_path, emulator, IMAGINE)
    assert time.monotonic() - start >= 0.4


async def test_a_retired_model_names_the_setting_and_is_not_retried(tmp_path: Path, emulator: Emulator) -> None:
    with pytest.raises(ProviderUnavailable, match="STUDIOBOT_IMAGE_MODEL"):
        await generate(tmp_path, emulator, IMAGINE, image_model="gemini-2.5-flash-image")
    assert len(emulator.calls) == 1


async def test_a_wrong_key_is_reported_without_leaking_it(tmp_path: Path, emulator: Emulator,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from pydantic import SecretStr

    caplog.set_level(logging.DEBUG)
    secret = "AIzaWrongKeyThatMustNeverBePrinted123"
    async with open_studio(gemini_settings(tmp_path, emulator, gemini_api_key=SecretStr(secret))) as studio:
        job = await studio.submit(IMAGINE, REQUESTER, ORIGIN)
        with pytest.raises(ProviderUnavailable, match="GEMINI_API_KEY") as caught:
            await studio.outcome(job.id)
        stored = await studio.job(job.id)
    assert len(emulator.calls) == 1
    assert secret not in str(caught.value) + caught.value.detail + str(stored)
    assert secret not in caplog.text
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or secret.encode() not in path.read_bytes(), path


async def test_an_unknown_voice_is_refused_before_any_call(tmp_path: Path, emulator: Emulator) -> None:
    with pytest.raises(InputError, match="Unknown voice"):
        await generate(tmp_path, emulator, SpeakRequest("hi", voice="Bob"))
    assert emulator.calls == []
