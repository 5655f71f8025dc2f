"""The real google-genai client against the Gemini emulator: what it sends, what it gets back."""

from __future__ import annotations

import base64
import io
import json
import re
import time
import wave
from typing import Any

import aiohttp
import pytest
from google.genai import errors, types
from PIL import Image

from emulator.app import Emulator
from emulator.faults import Fault

# google-genai 3.6 subclasses aiohttp.ClientSession, which aiohttp 3.14 deprecates.

TTS38, TTS25 = "gemini-3.8-flash-tts", "gemini-2.5-flash-preview-tts"
FLASH, PRO = "gemini-3.1-flash-image", "gemini-3-pro-image"


def speech(voice: str | None = None, **kwargs: Any) -> types.GenerateContentConfig:
    voice_config = (
        types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice)) if voice else None
    )
    return types.GenerateContentConfig(
        response_modalities=["AUDIO"], speech_config=types.SpeechConfig(voice_config=voice_config, **kwargs)
    )


def picture(aspect: str | None = None) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"], image_config=types.ImageConfig(aspect_ratio=aspect) if aspect else None
    )


def audio_of(resp: types.GenerateContentResponse) -> types.Blob:
    assert resp.candidates and resp.candidates[0].content and resp.candidates[0].content.parts
    blob = resp.candidates[0].content.parts[0].inline_data
    assert blob is not None and blob.data is not None
    return blob


def image_of(resp: types.GenerateContentResponse) -> tuple[str, bytes]:
    blobs = [p.inline_data for p in resp.parts or [] if p.inline_data and not p.thought]
    assert len(blobs) == 1 and blobs[0] is not None and blobs[0].data
    return blobs[0].mime_type or "", blobs[0].data


def png(size: tuple[int, int], colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


async def post(
    emulator: Emulator, model: str, body: Any, *, headers: dict[str, str] | None = None, key: str | None = "header"
) -> tuple[int, dict[str, Any]]:
    """A raw request, as curl (or a stranger SDK) would send it."""
    url = f"{emulator.base_url}/v1beta/models/{model}:generateContent"
    hdrs = dict(headers or {})
    if key == "header":
        hdrs["x-goog-api-key"] = emulator.api_key or ""
    elif key is not None:
        url += f"?key={key}"
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=hdrs) as resp:
        return resp.status, await resp.json(content_type=None)


# Speech


async def test_3_8_speaks_one_voice_as_a_riff_wav(client: Any, emulator: Emulator) -> None:
    config = types.GenerateContentConfig(
        response_modalities=["AUDIO"], speech_config=types.SpeechConfig(voice_config=types.VoiceConfig(voice="kore"))
    )
    resp = await client.models.generate_content(model=TTS38, contents="Hello from the emulator.", config=config)
    blob = audio_of(resp)
    assert blob.mime_type == "audio/wav"
    with wave.open(io.BytesIO(blob.data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24_000, 1, 2)
        assert wav.getnframes() > 24_000 // 2
    assert resp.candidates[0].finish_reason == types.FinishReason.STOP
    assert resp.model_version == TTS38 and resp.usage_metadata.candidates_token_count > 0
    assert emulator.calls[-1].body["generationConfig"]["speechConfig"] == {"voice_config": {"voice": "kore"}}


async def test_2_5_speaks_headerless_l16(client: Any) -> None:
    resp = await client.models.generate_content(model=TTS25, contents="Say calmly: hello.", config=speech("Puck"))
    blob = audio_of(resp)
    assert blob.mime_type == "audio/L16;codec=pcm;rate=24000"
    assert blob.data[:4] != b"RIFF" and len(blob.data) % 2 == 0 and len(blob.data) > 24_000


async def test_two_speakers_take_turns(client: Any) -> None:
    pair = types.MultiSpeakerVoiceConfig(
        speaker_voice_configs=[
            types.SpeakerVoiceConfig(speaker=name, voice_config=types.VoiceConfig(voice=voice))
            for name, voice in (("Joe", "Charon"), ("Jane", "Leda"))
        ]
    )
    config = types.GenerateContentConfig(
        response_modalities=["AUDIO"], speech_config=types.SpeechConfig(multi_speaker_voice_config=pair)
    )
    script = "Joe: How's it going today, Jane?\nJane: Not too bad, how about you?"
    one = await client.models.generate_content(model=TTS38, contents=script, config=config)
    parts = [
        types.Part(text="How's it going?", speech_metadata=types.SpeechMetadata(speaker="Joe", style="cheerful")),
        types.Part(text="Fine, thanks.", speech_metadata=types.SpeechMetadata(speaker="Jane", style="whisper")),
    ]
    two = await client.models.generate_content(
        model=TTS38, contents=types.Content(role="user", parts=parts), config=config
    )
    assert audio_of(one).data[:4] == audio_of(two).data[:4] == b"RIFF"
    with pytest.raises(errors.ClientError) as lite:
        await client.models.generate_content(model="gemini-3.8-flash-lite-tts", contents=script, config=config)
    assert lite.value.code == 400


async def test_unknown_voice_lists_the_allowed_ones(client: Any) -> None:
    with pytest.raises(errors.ClientError) as err:
        await client.models.generate_content(model=TTS25, contents="hi", config=speech("Bob"))
    assert err.value.code == 400 and err.value.status == "INVALID_ARGUMENT"
    assert "Voice name Bob is not supported. Allowed voice names are: achernar, achird," in (err.value.message or "")


async def test_tts_refuses_text_output(client: Any) -> None:
    with pytest.raises(errors.ClientError, match="response modalities"):
        await client.models.generate_content(model=TTS25, contents="hi")


# Keys and models


async def test_keys_are_checked_like_google(emulator: Emulator) -> None:
    status, body = await post(emulator, TTS25, {"contents": [{"parts": [{"text": "hi"}]}]}, key=None)
    assert (status, body["error"]["status"]) == (403, "PERMISSION_DENIED")
    status, body = await post(emulator, TTS25, {"contents": [{"parts": [{"text": "hi"}]}]}, key="wrong")
    assert (status, body["error"]["details"][0]["reason"]) == (400, "API_KEY_INVALID")
    speak = {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"responseModalities": ["AUDIO"]}}
    status, _ = await post(emulator, TTS25, speak, key=emulator.api_key)
    assert status == 200
    assert [c.api_key for c in emulator.calls] == [None, "wrong", emulator.api_key]


async def test_retired_model_is_not_found(client: Any) -> None:
    with pytest.raises(errors.ClientError) as err:
        await client.models.generate_content(model="gemini-2.5-flash-image", contents="a fox", config=picture())
    assert err.value.code == 404 and "models/gemini-2.5-flash-image is not found" in (err.value.message or "")


# Images


async def test_wide_picture_comes_after_a_thought(client: Any) -> None:
    resp = await client.models.generate_content(model=FLASH, contents="a red fox", config=picture("16:9"))
    assert resp.parts[0].thought is True and resp.parts[0].text
    mime, data = image_of(resp)
    assert mime == "image/png" and data[:4] == b"\x89PNG"
    assert Image.open(io.BytesIO(data)).size == (1344, 768)


async def test_pro_sends_jpeg_labelled_png(client: Any) -> None:
    mime, data = image_of(await client.models.generate_content(model=PRO, contents="a fox", config=picture()))
    assert mime == "image/png" and data[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(data)).size == (1024, 1024)


async def test_edit_keeps_the_source_shape_and_changes_it(client: Any) -> None:
    source = png((640, 480), "red")
    contents = [types.Part.from_bytes(data=source, mime_type="image/png"), "make it snowy"]
    _, data = image_of(await client.models.generate_content(model=FLASH, contents=contents, config=picture()))
    edited = Image.open(io.BytesIO(data)).convert("RGB")
    assert edited.size == (640, 480)
    assert edited.getpixel((320, 100)) != (255, 0, 0)
    _, data = image_of(await client.models.generate_content(model=FLASH, contents=contents, config=picture("1:1")))
    assert Image.open(io.BytesIO(data)).size == (1024, 1024)


async def test_unknown_aspect_is_invalid(client: Any) -> None:
    with pytest.raises(errors.ClientError) as err:
        await client.models.generate_content(model=FLASH, contents="a fox", config=picture("7:3"))
    assert err.value.status == "INVALID_ARGUMENT"


@pytest.mark.parametrize("style", ["camel", "snake"])
async def test_both_spellings_are_accepted(emulator: Emulator, style: str) -> None:
    source = base64.urlsafe_b64encode(png((300, 200), "blue")).decode().rstrip("=")
    camel = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inlineData": {"mimeType": "image/png", "data": source}},
                    {"text": "add a hat"},
                ],
            }
        ],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "3:2"}},
    }
    # Keys only: the base64 value may itself contain capitals.
    snake = re.sub(r'"(\w+)":', lambda m: '"' + re.sub("([A-Z])", r"_\1", m[1]).lower() + '":', json.dumps(camel))
    body = camel if style == "camel" else json.loads(snake)
    assert style == "camel" or "generation_config" in body
    status, resp = await post(emulator, FLASH, body)
    assert status == 200
    image = resp["candidates"][0]["content"]["parts"][-1]["inlineData"]
    assert Image.open(io.BytesIO(base64.b64decode(image["data"]))).size == (1248, 832)


# Faults, as the SDK sees them


async def test_rate_limit_carries_retry_info(client: Any, emulator: Emulator) -> None:
    emulator.script(Fault.http(429, retry_delay="22s"))
    with pytest.raises(errors.ClientError) as err:
        await client.models.generate_content(model=TTS25, contents="hi", config=speech())
    assert err.value.code == 429 and err.value.status == "RESOURCE_EXHAUSTED"
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "22s"} in err.value.details["error"][
        "details"
    ]


@pytest.mark.parametrize("status", [500, 503, 504])
async def test_server_errors(client: Any, emulator: Emulator, status: int) -> None:
    emulator.script(Fault.http(status))
    with pytest.raises(errors.ServerError) as err:
        await client.models.generate_content(model=TTS25, contents="hi", config=speech())
    assert err.value.code == status
    assert len(emulator.calls) == 1


async def test_malformed_body_is_a_json_error(client: Any, emulator: Emulator) -> None:
    emulator.script(Fault.malformed())
    with pytest.raises(ValueError):  # json.JSONDecodeError
        await client.models.generate_content(model=FLASH, contents="a fox", config=picture())


async def test_drop_is_a_disconnection(client: Any, emulator: Emulator) -> None:
    emulator.script(Fault.drop())
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.models.generate_content(model=FLASH, contents="a fox", config=picture())
    resp = await client.models.generate_content(model=FLASH, contents="a fox", config=picture())
    assert image_of(resp)


async def test_blocks_and_refusals_arrive_as_200s(client: Any, emulator: Emulator) -> None:
    emulator.script(Fault.blocked(), Fault.finish("IMAGE_SAFETY"), Fault.text_only())
    blocked = await client.models.generate_content(model=FLASH, contents="x", config=picture())
    assert blocked.candidates is None and blocked.prompt_feedback.block_reason == "PROHIBITED_CONTENT"
    unsafe = await client.models.generate_content(model=FLASH, contents="x", config=picture())
    assert unsafe.candidates[0].finish_reason == "IMAGE_SAFETY" and unsafe.parts is None
    refused = await client.models.generate_content(model=FLASH, contents="x", config=picture())
    assert refused.text == "I can't draw that." and refused.candidates[0].finish_reason == "STOP"


async def test_empty_audio_and_model_filtered_script(client: Any, emulator: Emulator) -> None:
    emulator.script(Fault.empty_audio(), model=TTS38)
    picture_resp = await client.models.generate_content(model=FLASH, contents="x", config=picture())
    assert image_of(picture_resp)
    resp = await client.models.generate_content(model=TTS38, contents="hi", config=speech("Kore"))
    blob = resp.candidates[0].content.parts[0].inline_data
    assert blob.mime_type == "audio/wav" and not blob.data


async def test_latency_then_a_normal_answer(client: Any, emulator: Emulator) -> None:
    emulator.script(Fault.latency(0.3))
    start = time.monotonic()
    await client.models.generate_content(model=TTS25, contents="hi", config=speech())
    assert time.monotonic() - start >= 0.3


async def test_fault_header_for_manual_use(emulator: Emulator) -> None:
    status, body = await post(emulator, TTS25, {"contents": "hi"}, headers={"x-emulator-fault": "503"})
    assert (status, body["error"]["status"]) == (503, "UNAVAILABLE")
    status, body = await post(emulator, TTS25, {"contents": "hi"}, headers={"x-emulator-fault": "blocked"})
    assert body["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"


def test_continuation_is_never_scripted() -> None:
    with pytest.raises(ValueError, match="CONTINUATION"):
        Fault.finish("CONTINUATION")
