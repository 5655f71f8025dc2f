"""With no Gemini key, a user still hears real speech and gets labelled preview pictures."""

from __future__ import annotations

import array
import math
from io import BytesIO
from itertools import pairwise

import pytest
from PIL import Image, ImageStat

from core.errors import InputError
from core.providers.base import Provider, Speech
from core.providers.espeak import VOICE_MAP, synthesize
from core.providers.offline import OfflineProvider
from core.requests import ASPECT_SIZES, EditRequest, ImagineRequest, Speaker, SpeakRequest
from core.voices import VOICES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def provider() -> OfflineProvider:
    return OfflineProvider()


def rms(speech: Speech) -> float:
    samples = array.array("h", speech.pcm)
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def crossings_per_second(speech: Speech) -> float:
    """A rough brightness measure: higher voices cross zero more often."""
    samples = array.array("h", speech.pcm)
    return sum((a < 0) != (b < 0) for a, b in pairwise(samples)) / speech.duration_s


def png(data: bytes) -> Image.Image:
    assert data.startswith(PNG_MAGIC)
    image = Image.open(BytesIO(data))
    image.load()
    return image


def photo(size: tuple[int, int] = (640, 480)) -> bytes:
    """A bright, busy 'photo' to edit: a warm gradient with a green square."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((60, 200, 90), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- speech ---------------------------------------------------------------------------------


def test_offline_provider_follows_the_provider_protocol(provider: OfflineProvider) -> None:
    assert isinstance(provider, Provider)
    assert provider.offline
    assert provider.name == "offline"
    assert provider.voices() == VOICES


def test_every_gemini_voice_has_its_own_offline_sound() -> None:
    assert set(VOICE_MAP) == {v.name for v in VOICES}
    assert len(set(VOICE_MAP.values())) == len(VOICES)


async def test_hello_there_is_audible_and_about_a_second(provider: OfflineProvider) -> None:
    speech = await provider.speak(SpeakRequest(text="hello there"))
    assert 0.5 <= speech.duration_s <= 3.0
    assert rms(speech) > 500
    assert len(speech.pcm) % 2 == 0


async def test_two_voices_sound_different(provider: OfflineProvider) -> None:
    kore = await provider.speak(SpeakRequest(text="The quick brown fox.", voice="Kore"))
    charon = await provider.speak(SpeakRequest(text="The quick brown fox.", voice="Charon"))
    assert kore.pcm != charon.pcm
    assert crossings_per_second(kore) > 1.1 * crossings_per_second(charon)  # Kore is female, Charon male


async def test_longer_text_takes_longer_to_say(provider: OfflineProvider) -> None:
    short = await provider.speak(SpeakRequest(text="Hi."))
    long = await provider.speak(SpeakRequest(text="Hi. " + "This sentence is rather longer than the first. " * 3))
    assert long.duration_s > short.duration_s * 3


async def test_german_text_uses_a_german_voice(provider: OfflineProvider) -> None:
    english = await provider.speak(SpeakRequest(text="Guten Morgen", language="en-US"))
    german = await provider.speak(SpeakRequest(text="Guten Morgen", language="de-DE"))
    assert rms(german) > 500
    assert german.pcm != english.pcm


async def test_unknown_language_falls_back_to_english(provider: OfflineProvider) -> None:
    speech = await provider.speak(SpeakRequest(text="still speaks", language="xx-YY"))
    assert rms(speech) > 500


async def test_dialogue_speaks_both_turns_with_their_voices(provider: OfflineProvider) -> None:
    speakers = (Speaker("Ann", "Kore"), Speaker("Bob", "Charon"))
    ann = await provider.speak(SpeakRequest(text="Hello Bob, how are you?", voice="Kore"))
    bob = await provider.speak(SpeakRequest(text="Fine thanks, and you?", voice="Charon"))
    both = await provider.speak(
        SpeakRequest(text="Ann: Hello Bob, how are you?\nBob: Fine thanks, and you?", speakers=speakers)
    )
    assert both.duration_s > max(ann.duration_s, bob.duration_s)
    assert both.duration_s == pytest.approx(ann.duration_s + bob.duration_s + 0.25, abs=0.3)


@pytest.mark.parametrize("text", ["", "   \n "])
async def test_empty_text_is_refused(provider: OfflineProvider, text: str) -> None:
    with pytest.raises(InputError):
        await provider.speak(SpeakRequest(text=text))


async def test_unknown_voice_is_refused_with_suggestions(provider: OfflineProvider) -> None:
    with pytest.raises(InputError, match="Unknown voice"):
        await provider.speak(SpeakRequest(text="hello", voice="Gandalf"))


def test_synthesize_refuses_blank_text() -> None:
    with pytest.raises(InputError):
        synthesize("  ")


# --- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize("aspect", list(ASPECT_SIZES))
async def test_imagine_honours_every_aspect(provider: OfflineProvider, aspect: str) -> None:
    image = png(await provider.imagine(ImagineRequest(prompt="a red fox in the snow", aspect=aspect)))
    w, h = (int(n) for n in aspect.split(":"))
    assert image.size == ASPECT_SIZES[aspect]
    assert image.width / image.height == pytest.approx(w / h, rel=0.1)


async def test_imagine_defaults_to_square(provider: OfflineProvider) -> None:
    image = png(await provider.imagine(ImagineRequest(prompt="a lighthouse")))
    assert image.width == image.height


async def test_same_prompt_same_picture_other_prompt_other_picture(provider: OfflineProvider) -> None:
    first = await provider.imagine(ImagineRequest(prompt="a red fox"))
    again = await provider.imagine(ImagineRequest(prompt="a red fox"))
    other = await provider.imagine(ImagineRequest(prompt="a blue whale"))
    assert first == again
    assert first != other
    assert ImageStat.Stat(png(first)).mean != ImageStat.Stat(png(other)).mean


async def test_reference_image_shows_in_the_corner(provider: OfflineProvider) -> None:
    plain = png(await provider.imagine(ImagineRequest(prompt="a red fox")))
    guided = png(await provider.imagine(ImagineRequest(prompt="a red fox", references=(photo(),))))
    w, h = plain.size
    corner = (w * 2 // 3, h * 2 // 3, w, h)
    assert plain.crop(corner).tobytes() != guided.crop(corner).tobytes()
    top_left = (0, 0, w // 3, h // 3)
    assert plain.crop(top_left).tobytes() == guided.crop(top_left).tobytes()


async def test_unknown_aspect_is_refused(provider: OfflineProvider) -> None:
    with pytest.raises(InputError):
        await provider.imagine(ImagineRequest(prompt="a red fox", aspect="7:3"))


async def test_edit_keeps_size_and_night_darkens_toward_blue(provider: OfflineProvider) -> None:
    source = png(photo((640, 480))).convert("RGB")
    edited = png(await provider.edit(EditRequest(image=photo((640, 480)), instruction="make it night")))
    assert edited.size == source.size
    # Compare above the caption band: the picture itself must change.
    area = (0, 0, 640, 360)
    before = ImageStat.Stat(source.crop(area)).mean
    after = ImageStat.Stat(edited.convert("RGB").crop(area)).mean
    assert sum(after) < sum(before) - 60  # darker
    assert after[2] - after[0] > before[2] - before[0] + 20  # bluer


async def test_black_and_white_edit_drops_colour(provider: OfflineProvider) -> None:
    edited = png(await provider.edit(EditRequest(image=photo(), instruction="make it black and white"))).convert("RGB")
    r, g, b = ImageStat.Stat(edited.crop((0, 60, 640, 300))).mean  # below the label badge
    assert max(r, g, b) - min(r, g, b) < 2


async def test_sunset_edit_warms_the_picture(provider: OfflineProvider) -> None:
    source = png(photo()).convert("RGB")
    edited = png(await provider.edit(EditRequest(image=photo(), instruction="golden sunset light"))).convert("RGB")
    before = ImageStat.Stat(source.crop((0, 60, 640, 300))).mean
    after = ImageStat.Stat(edited.crop((0, 60, 640, 300))).mean
    assert after[0] - after[2] > before[0] - before[2] + 40


async def test_edit_with_aspect_resizes(provider: OfflineProvider) -> None:
    edited = png(await provider.edit(EditRequest(image=photo(), instruction="add a hat", aspect="16:9")))
    assert edited.size == ASPECT_SIZES["16:9"]


async def test_edit_of_garbage_bytes_is_an_input_error(provider: OfflineProvider) -> None:
    with pytest.raises(InputError):
        await provider.edit(EditRequest(image=b"not an image", instruction="make it night"))


async def test_a_chained_edit_replaces_the_caption_instead_of_writing_over_it(provider: OfflineProvider) -> None:
    """The caption band of edit(edit(x)) must look exactly like one fresh edit's: the old words are gone."""
    first = await provider.edit(EditRequest(image=photo(), instruction="make it night and add a long caption"))
    chained = png(await provider.edit(EditRequest(image=first, instruction="add snow")))
    fresh = png(await provider.edit(EditRequest(image=photo(), instruction="add snow")))
    w, h = chained.size
    band = (0, h - 40, w, h)
    assert chained.convert("RGB").crop(band).tobytes() == fresh.convert("RGB").crop(band).tobytes()
