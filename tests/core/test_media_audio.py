"""Speech from the model becomes a clip a user can play, at a sensible level."""

from __future__ import annotations

import audioop
import io
import math
import wave
from array import array

import pytest

from core.errors import InputError, ProviderUnavailable
from core.media import audio
from core.providers.base import Speech

RATE = 24_000


def tone(seconds: float, amplitude: int = 3000, rate: int = RATE, freq: float = 220.0) -> Speech:
    samples = array(
        "h", (round(amplitude * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(seconds * rate)))
    )
    return Speech(samples.tobytes(), rate)


def wav_bytes(pcm: bytes, rate: int, channels: int = 1, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buf.getvalue()


def dbfs(level: int) -> float:
    return 20 * math.log10(level / 32768)


def test_ogg_is_opus_and_keeps_its_length() -> None:
    clip = audio.encode(tone(1.5), "ogg")
    assert clip.data.startswith(b"OggS")
    assert b"OpusHead" in clip.data[:200]
    assert (clip.container, clip.codec, clip.mime_type, clip.sample_rate) == ("ogg", "opus", "audio/ogg", 48_000)
    assert clip.duration_s == pytest.approx(1.5)
    assert abs(audio.decode(clip.data).duration_s - 1.5) < 0.1


def test_mp3_round_trip() -> None:
    clip = audio.encode(tone(1.5), "mp3")
    assert clip.data[:3] == b"ID3" or clip.data[0] == 0xFF
    assert (clip.codec, clip.mime_type, clip.sample_rate) == ("mp3", "audio/mpeg", RATE)
    assert abs(audio.decode(clip.data, RATE).duration_s - 1.5) < 0.1


def test_wav_round_trip_is_exact_in_length() -> None:
    speech = tone(1.25)
    clip = audio.encode(speech, "WAV")
    assert clip.data.startswith(b"RIFF")
    with wave.open(io.BytesIO(clip.data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        assert w.getnframes() == len(speech.pcm) // 2
    assert audio.decode(clip.data, RATE).duration_s == pytest.approx(1.25, abs=0.01)


def test_quiet_speech_is_raised_but_never_clips() -> None:
    quiet = tone(1.0, amplitude=300)
    loud = audio.speech_from_model(audio.encode(quiet, "wav").data, "audio/wav")
    assert audioop.rms(loud.pcm, 2) > 5 * audioop.rms(quiet.pcm, 2)
    assert dbfs(audioop.max(loud.pcm, 2)) <= -0.9


def test_peaky_speech_is_held_under_the_ceiling() -> None:
    # One loud click in quiet speech: the RMS target would clip it, the ceiling wins.
    pcm = bytearray(tone(1.0, amplitude=200).pcm)
    pcm[1000:1002] = (30000).to_bytes(2, "little", signed=True)
    out = audio.normalize(bytes(pcm))
    assert dbfs(audioop.max(out, 2)) <= -0.9
    assert audioop.max(out, 2) > 30000 * 0.85


def test_silence_stays_silent() -> None:
    silence = Speech(bytes(RATE * 2), RATE)
    clip = audio.encode(silence, "ogg")
    assert clip.duration_s == pytest.approx(1.0)
    assert audioop.max(audio.decode(clip.data).pcm, 2) < 50


def test_empty_speech_and_unknown_format_are_explained() -> None:
    with pytest.raises(ProviderUnavailable, match="empty"):
        audio.encode(Speech(b"", RATE))
    with pytest.raises(InputError, match="ogg, mp3, wav"):
        audio.encode(tone(0.1), "flac")


def test_model_l16_uses_the_declared_rate_and_drops_a_half_sample() -> None:
    speech = audio.speech_from_model(b"\x01\x00\x02\x00\x03", "audio/L16;codec=pcm;rate=16000")
    assert speech == Speech(b"\x01\x00\x02\x00", 16_000)
    assert audio.speech_from_model(b"\x00\x00" * 10, "audio/L16;codec=pcm").sample_rate == 24_000


def test_model_wav_is_read_and_made_mono() -> None:
    mono = tone(0.5).pcm
    stereo = audioop.tostereo(mono, 2, 1, 1)
    speech = audio.speech_from_model(wav_bytes(stereo, 22_050, channels=2), "audio/wav")
    assert speech.sample_rate == 22_050
    assert speech.pcm == mono


def test_model_returning_nothing_is_a_provider_problem() -> None:
    with pytest.raises(ProviderUnavailable, match="no audio"):
        audio.speech_from_model(b"", "audio/L16;rate=24000")
    with pytest.raises(ProviderUnavailable, match="no audio"):
        audio.speech_from_model(b"\x05", "audio/L16;rate=24000")


def test_decode_refuses_garbage() -> None:
    with pytest.raises(InputError, match="couldn't be read"):
        audio.decode(b"definitely not audio" * 10)


def test_resample_changes_length_by_the_ratio() -> None:
    pcm = tone(1.0).pcm
    assert abs(len(audio.resample(pcm, RATE, 48_000)) - 2 * len(pcm)) <= 4
    assert audio.resample(pcm, RATE, RATE) == pcm


def test_concat_joins_turns_with_a_gap_at_the_first_rate() -> None:
    joined = audio.concat([tone(1.0), tone(0.5, rate=48_000)], gap_s=0.25)
    assert joined.sample_rate == RATE
    assert joined.duration_s == pytest.approx(1.75, abs=0.01)


def test_waveform_has_one_byte_per_point_and_follows_the_level() -> None:
    speech = audio.concat([tone(0.5, amplitude=32000), Speech(bytes(RATE), RATE)], gap_s=0)
    wave_ = audio.waveform(speech, 64)
    assert len(wave_) == 64
    assert min(wave_[:30]) > 240
    assert max(wave_[34:]) == 0
    assert audio.waveform(Speech(b"", RATE)) == bytes(256)
