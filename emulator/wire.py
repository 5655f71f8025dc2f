"""Gemini's wire format as the emulator reads and writes it: model table, field spellings, errors."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from typing import Any

from emulator.speech import VOICES_BY_KEY

L16 = "audio/L16;codec=pcm;rate=24000"
AUDIO_TOKENS_PER_S = 25
IMAGE_TOKENS = 1120
MAX_INPUT_IMAGES = 14
# Gemini's aspect ratios and the pixels each gives at 1K.
ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
    "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672),
    "1:4": (512, 2048), "4:1": (2048, 512), "1:8": (384, 3072), "8:1": (3072, 384),
}  # fmt: skip
IMAGE_SIZES = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}
_SNAKE = re.compile(r"(?<=[a-z0-9])([A-Z])")
_LABEL = re.compile(r"^\s*(?P<name>[^:\n]{1,40}?)\s*:\s*(?P<line>.*)$")


@dataclass(frozen=True, slots=True)
class Model:
    """What one model id accepts and how it answers."""

    kind: str  # "tts" or "image"
    wav: bool = False  # 3.8 TTS answers a RIFF file, older ones bare L16
    multi_speaker: bool = True
    needs_voice: bool = False
    jpeg: bool = False  # JPEG bytes labelled image/png
    sizes: tuple[str, ...] = ("512", "1K", "2K", "4K")
    sampling: bool = True  # accepts temperature/topP/topK


MODELS: dict[str, Model] = {
    "gemini-3.8-flash-tts": Model("tts", wav=True, sampling=False),
    "gemini-3.8-flash-lite-tts": Model("tts", wav=True, multi_speaker=False, sampling=False),
    "gemini-2.5-flash-preview-tts": Model("tts"),
    "gemini-2.5-pro-preview-tts": Model("tts"),
    "gemini-3.1-flash-tts-preview": Model("tts", needs_voice=True),
    "gemini-3.1-flash-image": Model("image"),
    "gemini-3-pro-image": Model("image", jpeg=True, sizes=("1K", "2K", "4K")),
    "gemini-3.1-flash-lite-image": Model("image", sizes=("512", "1K")),
}


@dataclass(frozen=True, slots=True)
class Call:
    """One request as received, for tests to count attempts and inspect bodies."""

    path: str
    model: str
    body: dict[str, Any]
    api_key: str | None


class ApiError(Exception):
    """An answer in Google's error shape."""

    def __init__(self, status: int, message: str, *details: dict[str, Any]) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def snake(value: Any) -> Any:
    """Rename camelCase keys to snake_case all the way down: Gemini accepts both spellings."""
    if isinstance(value, dict):
        return {_SNAKE.sub(r"_\1", k).lower(): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def b64decode(data: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not (the SDK sends URL-safe)."""
    text = "".join(data.split()).replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def voice_of(config: Any) -> str | None:
    """The voice named in a voice_config, canonical spelling, or 400 if Gemini has no such voice."""
    if not isinstance(config, dict):
        return None
    prebuilt = config.get("prebuilt_voice_config") or {}
    name = prebuilt.get("voice_name") if isinstance(prebuilt, dict) else None
    name = name or config.get("voice")
    if not name:
        return None
    voice = VOICES_BY_KEY.get(str(name).strip().lower())
    if voice is None:
        allowed = ", ".join(sorted(VOICES_BY_KEY))
        raise ApiError(400, f"Voice name {name} is not supported. Allowed voice names are: {allowed}.")
    return voice


def user_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    contents = body.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    if not contents or not isinstance(contents, list):
        raise ApiError(400, "* GenerateContentRequest.contents: contents is not specified\n")
    parts = [p for c in contents if isinstance(c, dict) for p in c.get("parts") or [] if isinstance(p, dict)]
    if not parts:
        raise ApiError(400, "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n")
    return [p for p in parts if not p.get("thought")]


def modalities(config: dict[str, Any], default: list[str]) -> list[str]:
    return [str(m).upper() for m in config.get("response_modalities") or default]


def bad_modalities(model: str, asked: list[str], accepted: str) -> ApiError:
    return ApiError(
        400,
        f"The requested combination of response modalities ({', '.join(asked)}) is not supported by the model. "
        f"models/{model} accepts the following combination of response modalities:\n{accepted}",
    )


def dialogue(parts: list[dict[str, Any]], speakers: dict[str, str], use_metadata: bool) -> list[tuple[str, str]]:
    """Split text into (line, voice) turns by ``Name:`` labels or 3.8's per-part speechMetadata."""
    by_key = {name.lower(): voice for name, voice in speakers.items()}
    voice = next(iter(speakers.values()))
    turns: list[tuple[str, str]] = []
    for part in parts:
        meta = part.get("speech_metadata") if use_metadata else None
        if isinstance(meta, dict) and meta.get("speaker"):
            speaker = str(meta["speaker"])
            if speaker.lower() not in by_key:
                raise ApiError(400, f"Speaker {speaker} in speech_metadata does not match any speaker_voice_configs.")
            turns.append((part["text"], by_key[speaker.lower()]))
            continue
        for line in str(part["text"]).splitlines():
            m = _LABEL.match(line)
            if m and m["name"].lower() in by_key:
                voice, line = by_key[m["name"].lower()], m["line"]
            if line.strip():
                turns.append((line, voice))
    merged: list[tuple[str, str]] = []
    for text, v in turns:
        if merged and merged[-1][1] == v:
            merged[-1] = (merged[-1][0] + "\n" + text, v)
        else:
            merged.append((text, v))
    return merged


def response_body(
    model: str, parts: list[dict[str, Any]], *, modality: str, out_tokens: int, prompt_tokens: int, finish: str = "STOP"
) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": finish, "index": 0}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": out_tokens,
            "totalTokenCount": prompt_tokens + out_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
            "candidatesTokensDetails": [{"modality": modality, "tokenCount": out_tokens}],
        },
        "modelVersion": model,
        "responseId": secrets.token_urlsafe(16),
    }
