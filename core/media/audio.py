"""Speech PCM in, uploadable audio out: loudness, containers, decoding, waveforms.

Plain synchronous functions; callers run them with ``asyncio.to_thread``. There is no ffprobe
on the hosts, so decoding pipes bytes through imageio-ffmpeg's binary directly and pydub is
only used to export (which needs just ffmpeg).
"""

from __future__ import annotations

import audioop
import functools
import io
import math
import subprocess
import warnings
import wave
from array import array
from typing import Any

import imageio_ffmpeg

from core.errors import InputError, ProviderUnavailable, StudioError
from core.providers.base import Speech
from core.requests import AUDIO_FORMATS
from core.results import AudioClip

DEFAULT_MODEL_RATE = 24_000
OPUS_RATE = 48_000
OPUS_KBPS, MP3_KBPS = 48, 64  # defaults: speech sounds clean
MIN_KBPS = {"ogg": 12, "mp3": 24}  # the lowest a long clip is squeezed to before it's refused
CONTAINER_OVERHEAD = 1.08  # Ogg/MP3 framing on top of the codec's bitrate
WAV_BYTES_PER_S = 2 * 24_000
SPEECH_CHARS_PER_S = 12.0  # slow speech: estimates err towards longer clips
MP3_RATES = (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
TARGET_RMS_DBFS = -18.0
PEAK_CEILING_DBFS = -1.0
MAX_BOOST_DB = 30.0  # past this a "quiet" clip is mostly noise; boosting it helps nobody
FFMPEG_TIMEOUT_S = 120
_FULL_SCALE = 32768.0


@functools.cache
def _ffmpeg() -> str:
    """Use the bundled binary so hosts need no system ffmpeg."""
    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def _audio_segment() -> Any:
    """Import pydub once, quietly, and point it at the bundled ffmpeg."""
    with warnings.catch_warnings():
        # pydub warns at import when ffmpeg isn't on PATH; we set the converter ourselves.
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment
    AudioSegment.converter = _ffmpeg()
    return AudioSegment


def _even(pcm: bytes) -> bytes:
    """Drop a trailing half sample so every audioop call sees whole frames."""
    return pcm[:-1] if len(pcm) % 2 else pcm


def _dbfs(level: float) -> float:
    return 20.0 * math.log10(level / _FULL_SCALE)


def normalize(pcm: bytes) -> bytes:
    """Bring speech to a comfortable level without clipping; silence stays silence."""
    pcm = _even(pcm)
    rms = audioop.rms(pcm, 2)
    peak = audioop.max(pcm, 2)
    if rms == 0 or peak == 0:
        return pcm
    gain_db = min(TARGET_RMS_DBFS - _dbfs(rms), PEAK_CEILING_DBFS - _dbfs(peak), MAX_BOOST_DB)
    if abs(gain_db) < 0.1:
        return pcm
    return audioop.mul(pcm, 2, 10.0 ** (gain_db / 20.0))


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Change the sample rate of mono s16le PCM."""
    pcm = _even(pcm)
    if from_rate == to_rate or not pcm:
        return pcm
    converted, _ = audioop.ratecv(pcm, 2, 1, from_rate, to_rate, None)
    return converted


def to_wav(speech: Speech) -> bytes:
    """Wrap PCM in a WAV header; no ffmpeg needed."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(speech.sample_rate)
        out.writeframes(_even(speech.pcm))
    return buf.getvalue()


def clip_bytes(fmt: str, seconds: float, kbps: int | None = None) -> int:
    """About how large a clip of ``seconds`` is in ``fmt`` at ``kbps`` (default bitrate if None)."""
    if fmt == "wav":
        return round(seconds * WAV_BYTES_PER_S) + 44
    kbps = kbps or (OPUS_KBPS if fmt == "ogg" else MP3_KBPS)
    return round(seconds * kbps * 1000 / 8 * CONTAINER_OVERHEAD) + 4096


def fitting_kbps(fmt: str, seconds: float, max_bytes: int | None) -> int | None:
    """The default bitrate, or the highest lower one that keeps the clip under ``max_bytes``; None if none does."""
    default = OPUS_KBPS if fmt == "ogg" else MP3_KBPS
    if max_bytes is None or clip_bytes(fmt, seconds) <= max_bytes:
        return default
    if fmt == "wav":
        return None
    kbps = int((max_bytes - 4096) * 8 / 1000 / CONTAINER_OVERHEAD / max(seconds, 0.001))
    return kbps if kbps >= MIN_KBPS[fmt] else None


def expected_seconds(text: str) -> float:
    """How long speaking ``text`` takes, erring long: for choosing a bitrate before anything exists."""
    return len(text) / SPEECH_CHARS_PER_S


def _export(pcm: bytes, rate: int, fmt: str, kbps: int | None = None) -> tuple[bytes, int, str]:
    """Encode with ffmpeg through pydub; returns data, output rate and codec name."""
    segment = _audio_segment()(data=pcm, sample_width=2, frame_rate=rate, channels=1)
    if fmt == "ogg":
        out_rate, codec = OPUS_RATE, "opus"
        params = ["-ar", str(out_rate), "-application", "voip"]
        kwargs: dict[str, Any] = {"format": "ogg", "codec": "libopus", "bitrate": f"{kbps or OPUS_KBPS}k"}
    else:
        out_rate = rate if rate in MP3_RATES else min((r for r in MP3_RATES if r >= rate), default=48_000)
        codec = "mp3"
        params = ["-ar", str(out_rate)]
        kwargs = {"format": "mp3", "codec": "libmp3lame", "bitrate": f"{kbps or MP3_KBPS}k"}
    buf = io.BytesIO()
    try:
        segment.export(buf, parameters=params, **kwargs)
    except Exception as err:  # pydub raises CouldntEncodeError with ffmpeg's stderr
        raise StudioError("I couldn't encode the audio. Please try again.", detail=str(err)[-2000:]) from err
    return buf.getvalue(), out_rate, codec


def encode(speech: Speech, fmt: str = "ogg", *, offline: bool = False, max_bytes: int | None = None) -> AudioClip:
    """Turn model speech into a normalised clip in the container the user asked for, at a bitrate that
    fits ``max_bytes`` (the platform's upload limit) when the default one would not."""
    fmt = fmt.strip().lower()
    if fmt not in AUDIO_FORMATS:
        raise InputError(f"Unknown audio format {fmt!r}. Choose one of: {', '.join(AUDIO_FORMATS)}.")
    pcm = _even(speech.pcm)
    if not pcm:
        raise ProviderUnavailable("The speech came back empty. Please try again.")
    duration_s = len(pcm) / 2 / speech.sample_rate
    pcm = normalize(pcm)
    if fmt == "wav":
        data = to_wav(Speech(pcm, speech.sample_rate))
        return AudioClip(data, "wav", "pcm_s16le", duration_s, speech.sample_rate, offline)
    kbps = fitting_kbps(fmt, duration_s, max_bytes) or MIN_KBPS[fmt]
    data, out_rate, codec = _export(pcm, speech.sample_rate, fmt, kbps)
    return AudioClip(data, fmt, codec, duration_s, out_rate, offline)


def _mime_rate(mime_type: str) -> int:
    """Read ``rate=`` from a mime like ``audio/L16;codec=pcm;rate=24000``."""
    for param in mime_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "rate":
            try:
                rate = int(value.strip())
            except ValueError:
                break
            if rate > 0:
                return rate
    return DEFAULT_MODEL_RATE


def _wav_to_speech(data: bytes) -> Speech:
    """Parse a WAV into mono s16le, whatever its width and channel count."""
    with wave.open(io.BytesIO(data), "rb") as src:
        channels, width, rate = src.getnchannels(), src.getsampwidth(), src.getframerate()
        frames = src.readframes(src.getnframes())
    frames = frames[: len(frames) - len(frames) % (width * channels)]
    if width == 1:
        frames = audioop.bias(frames, 1, -128)  # WAV 8-bit is unsigned
    if width != 2:
        frames = audioop.lin2lin(frames, width, 2)
    if channels == 2:
        frames = audioop.tomono(frames, 2, 0.5, 0.5)
    elif channels > 2:
        frames = array("h", frames)[::channels].tobytes()
    return Speech(frames, rate)


def speech_from_model(data: bytes, mime_type: str) -> Speech:
    """Accept what Gemini sends: headerless L16 PCM, a WAV, or (rarely) another container."""
    if not data:
        raise ProviderUnavailable("The voice model returned no audio. Please try again.")
    mime = mime_type.split(";")[0].strip().lower()
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            speech = _wav_to_speech(data)
        except (wave.Error, EOFError, audioop.error):
            speech = decode(data, DEFAULT_MODEL_RATE)  # e.g. WAVE_FORMAT_EXTENSIBLE on 3.11
    elif mime in ("audio/l16", "audio/pcm", "audio/raw", "audio/s16le", ""):
        speech = Speech(_even(data), _mime_rate(mime_type))
    else:
        speech = decode(data, DEFAULT_MODEL_RATE)
    if not speech.pcm:
        raise ProviderUnavailable("The voice model returned no audio. Please try again.")
    return speech


def decode(data: bytes, sample_rate: int = 48_000) -> Speech:
    """Decode any container ffmpeg knows to mono s16le, without ffprobe."""
    if not data:
        raise InputError("That audio file is empty.")
    cmd = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", "pipe:0"]
    cmd += ["-vn", "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as err:
        raise InputError("That audio file took too long to read.") from err
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace")[-2000:]
        raise InputError("That audio file couldn't be read. Send OGG, MP3 or WAV.", detail=detail)
    return Speech(_even(proc.stdout), sample_rate)


def concat(parts: list[Speech], gap_s: float = 0.25) -> Speech:
    """Join turns at the first part's rate with a short pause between them."""
    if not parts:
        return Speech(b"", DEFAULT_MODEL_RATE)
    rate = parts[0].sample_rate
    gap = b"\x00\x00" * max(0, round(gap_s * rate))
    pieces = [resample(p.pcm, p.sample_rate, rate) for p in parts]
    return Speech(gap.join(p for p in pieces if p), rate)


def waveform(speech: Speech, points: int = 256) -> bytes:
    """Peak per bucket, 0..255, as Discord voice messages expect."""
    if points <= 0:
        return b""
    pcm = _even(speech.pcm)
    samples = len(pcm) // 2
    out = bytearray(points)
    if samples == 0:
        return bytes(out)
    for i in range(points):
        start, end = i * samples // points, (i + 1) * samples // points
        if end > start:
            peak = audioop.max(pcm[start * 2 : end * 2], 2)
            out[i] = min(255, round(peak * 255 / 32767))
    return bytes(out)
