"""Every bad input a user can send ends in a plain InputError that says what to fix, and leaves no job behind."""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from PIL import Image

from core.errors import InputError
from core.media import images
from core.requests import EditRequest, ImagineRequest, Request, SpeakRequest
from core.results import ImageResult
from core.studio import Studio
from tests.core.conftest import ORIGIN, REQUESTER

RED, BLUE, WHITE = (220, 20, 20), (20, 20, 220), (255, 255, 255)


def png(size: tuple[int, int], colour: tuple[int, int, int] = RED) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def noisy_png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buf, "PNG")
    return buf.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes whose IHDR claims a huge canvas: a decompression bomb by declaration."""
    data = bytearray(png((1, 1)))
    ihdr = data[12:29]  # b"IHDR" + 13 bytes of fields
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def animated_gif(size: tuple[int, int], first: tuple[int, int, int], second: tuple[int, int, int]) -> bytes:
    frames = [Image.new("RGB", size, first), Image.new("RGB", size, second)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


async def refused(studio: Studio, request: Request) -> str:
    """Submit, expect a refusal, and check the studio kept no trace of it."""
    with pytest.raises(InputError) as caught:
        await studio.submit(request, REQUESTER, ORIGIN)
    assert await studio.journal.recent(ORIGIN.platform) == []
    message = caught.value.user_message
    assert "Traceback" not in message
    assert "Error" not in message  # no exception class names leak into what the user reads
    return message


# -- text ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t  "], ids=["empty", "whitespace"])
async def test_speaking_nothing_asks_for_some_text(offline_studio: Studio, text: str) -> None:
    message = await refused(offline_studio, SpeakRequest(text))
    assert "text to speak is empty" in message
    assert "Write something" in message


async def test_empty_prompt_and_instruction_are_refused(offline_studio: Studio) -> None:
    assert "prompt is empty" in await refused(offline_studio, ImagineRequest("  "))
    assert "edit instruction is empty" in await refused(offline_studio, EditRequest(png((64, 64)), ""))


async def test_text_over_the_limit_states_the_limit(offline_studio: Studio) -> None:
    limit = offline_studio.max_speech_chars
    message = await refused(offline_studio, SpeakRequest("a" * (limit + 1)))
    assert f"{limit + 1:,} characters" in message
    assert f"the limit is {limit:,}" in message
    assert "shorten" in message


async def test_text_at_the_limit_is_accepted(offline_studio: Studio) -> None:
    limit = offline_studio.max_speech_chars
    job = await offline_studio.submit(SpeakRequest("a" * limit), REQUESTER, ORIGIN)
    assert len(job.request.text) == limit  # type: ignore[union-attr]
    assert await offline_studio.cancel(job.id)  # no need to synthesise 20,000 a's


async def test_unknown_voice_suggests_real_ones(offline_studio: Studio) -> None:
    message = await refused(offline_studio, SpeakRequest("hello", voice="Gandalf"))
    assert "Unknown voice" in message
    assert "Gandalf" in message
    assert "Kore" in message


async def test_unknown_aspect_ratio_lists_the_valid_ones(offline_studio: Studio) -> None:
    message = await refused(offline_studio, ImagineRequest("a fox", aspect="7:3"))
    assert "Unknown aspect ratio" in message
    assert "7:3" in message
    for aspect in offline_studio.provider.limits.aspects:
        assert aspect in message


# -- images -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(b"just some text, not a picture", "isn't an image I can read", id="text"),
        pytest.param(b"\n<!DOCTYPE html><html><body>hi</body></html>", "isn't an image I can read", id="html"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG images aren't supported", id="svg"),
        pytest.param(noisy_png((64, 64))[:3000], "damaged or incomplete", id="truncated-png"),
        pytest.param(png_declaring(20_000, 20_000), "too large to process (400 megapixels)", id="bomb"),
    ],
)
async def test_an_unusable_image_to_edit_is_refused_in_plain_words(
    offline_studio: Studio, data: bytes, words: str
) -> None:
    message = await refused(offline_studio, EditRequest(data, "make it night"))
    assert words in message


async def test_not_an_image_says_which_formats_work(offline_studio: Studio) -> None:
    message = await refused(offline_studio, EditRequest(b"%PDF-1.7\n", "make it night"))
    assert "PNG, JPEG, WebP or GIF" in message


async def test_a_bomb_says_what_size_is_acceptable(offline_studio: Studio) -> None:
    message = await refused(offline_studio, EditRequest(png_declaring(20_000, 20_000), "make it night"))
    assert f"under {images.MAX_PIXELS // 1_000_000} megapixels" in message


async def test_an_animated_gif_is_edited_from_its_first_frame(offline_studio: Studio) -> None:
    job = await offline_studio.submit(EditRequest(animated_gif((200, 200), RED, BLUE), "make it warm"),
                                      REQUESTER, ORIGIN)
    stored = await offline_studio.job(job.id)
    assert stored is not None
    first = images.load(images.prepare_input(stored.request.image))  # type: ignore[union-attr]
    assert first.getpixel((100, 100)) == RED

    result = await offline_studio.outcome(job.id)
    assert isinstance(result, ImageResult)
    assert (result.width, result.height) == (200, 200)
    pixel = images.load(result.data).getpixel((100, 100))
    assert isinstance(pixel, tuple)
    r, _, b = pixel[:3]
    assert r > 150 and r > 2 * b  # a warm red, not the second frame's blue


async def test_a_mask_of_another_size_is_stretched_to_the_source(offline_studio: Studio) -> None:
    result = await offline_studio.run(EditRequest(png((120, 80)), "make it night", mask=png((30, 20), WHITE)),
                                      REQUESTER, ORIGIN)
    assert isinstance(result, ImageResult)
    assert (result.width, result.height) == (120, 80)


async def test_a_mask_that_is_not_an_image_is_named_in_the_refusal(offline_studio: Studio) -> None:
    message = await refused(offline_studio, EditRequest(png((64, 64)), "make it night", mask=b"not a mask"))
    assert "mask" in message
    assert "isn't an image I can read" in message


async def test_too_many_reference_images_states_the_limit(offline_studio: Studio) -> None:
    limit = offline_studio.provider.limits.max_references
    refs = (png((8, 8)),) * (limit + 1)
    message = await refused(offline_studio, ImagineRequest("a collage", references=refs))
    assert f"At most {limit} reference images" in message
    message = await refused(offline_studio, EditRequest(png((64, 64)), "add them", references=refs))
    assert f"At most {limit} reference images" in message


async def test_a_broken_reference_image_is_named_in_the_refusal(offline_studio: Studio) -> None:
    message = await refused(offline_studio, ImagineRequest("a fox like this", references=(b"<html></html>",)))
    assert "reference image" in message
