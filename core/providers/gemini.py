"""Gemini through the google-genai async client: the only module that imports google.genai.

The SDK's own retries are off (they ignore RetryInfo and retry dropped connections behind our
back); tenacity retries transient failures with backoff, never blocks or bad input.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt
from tenacity.retry import retry_base
from tenacity.wait import wait_base, wait_exponential_jitter

from core.community.costs import record_attempt, record_usage
from core.errors import InputError, ProviderTimeout, ProviderUnavailable, RateLimited, SafetyBlocked, StudioError
from core.media import audio, images
from core.providers.base import ProviderLimits, Speech
from core.redact import Redactor
from core.requests import (
    ASPECT_SIZES,
    BlendRequest,
    EditRequest,
    ImagineRequest,
    SpeakRequest,
    UpscaleRequest,
    VaryRequest,
)
from core.settings import Settings
from core.voices import VOICES, Voice

log = logging.getLogger(__name__)

BLOCKING_FINISHES = frozenset({
    "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
    "RECITATION", "IMAGE_RECITATION",
})
MAX_RETRY_WAIT_S = 60.0
_OLD_TTS = re.compile(r"gemini-(2\.5|3\.1)-")
_OLD_IMAGE = re.compile(r"gemini-2\.")
_RETRY_IN = re.compile(r"retry in ([0-9.]+)\s*s", re.IGNORECASE)
# Output sizes (imageConfig.imageSize) per image model family; 2.5 has none (always 1K).
_SIZES = (("flash-lite-image", ("512", "1K")), ("pro-image", ("1K", "2K", "4K")), ("gemini-2.", ("1K",)))
ALL_SIZES = ("512", "1K", "2K", "4K")
VARY_TEXT = ("Create a variation of this image: keep the same composition and subject, and change the details."
             " It was drawn from this prompt: {prompt}")
VARY_PLAIN = "Create a variation of this image: keep the same composition and subject, and change the details."
UPSCALE_TEXT = ("Re-render this exact image at a higher resolution. Keep the composition, subject, colours and"
                " layout exactly the same; only add fine detail.")
BLEND_TEXT = "Blend these images into one picture that combines their subjects and styles."


def style_in_metadata(model: str) -> bool:
    """3.8 and later read text verbatim and take style as speech metadata; 2.5/3.1 take it in the prompt."""
    return _OLD_TTS.search(model) is None


def image_sizes(image_model: str) -> tuple[str, ...]:
    return next((sizes for marker, sizes in _SIZES if marker in image_model), ALL_SIZES)


def limits_for(tts_model: str, image_model: str) -> ProviderLimits:
    return ProviderLimits(
        max_text_chars=2000,  # gemini.md: quality drifts past ~2,000 characters per request
        max_references=3 if _OLD_IMAGE.search(image_model) else 14,
        max_speakers=1 if "lite-tts" in tts_model else 2,
        image_sizes=image_sizes(image_model),
        image_model=image_model,
    )


# -- building requests -----------------------------------------------------------------------------------


def _voice(name: str) -> types.VoiceConfig:
    return types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=name))


def speech_call(req: SpeakRequest, model: str) -> tuple[list[types.Content], types.GenerateContentConfig]:
    dialogue = len(req.speakers) == 2
    if dialogue:
        speech = types.SpeechConfig(
            multi_speaker_voice_config=types.MultiSpeakerVoiceConfig(
                speaker_voice_configs=[types.SpeakerVoiceConfig(speaker=s.name, voice_config=_voice(s.voice))
                                       for s in req.speakers]
            ),
            language_code=req.language,
        )
    else:
        speech = types.SpeechConfig(voice_config=_voice(req.voice), language_code=req.language)
    if style_in_metadata(model):
        if dialogue:
            parts = [
                types.Part(text=line.split(":", 1)[1].strip(),
                           speech_metadata=types.SpeechMetadata(speaker=line.split(":", 1)[0].strip(), style=req.style))
                for line in req.text.splitlines() if line.strip()
            ]
        else:
            meta = types.SpeechMetadata(style=req.style) if req.style else None
            parts = [types.Part(text=req.text, speech_metadata=meta)]
    else:
        text = req.text
        if req.style:
            what = "conversation" if dialogue else "text"
            text = f"Read the following {what} in this style: {req.style}\n\n{req.text}"
        parts = [types.Part(text=text)]
    config = types.GenerateContentConfig(response_modalities=["AUDIO"], speech_config=speech)
    return [types.Content(role="user", parts=parts)], config


def image_call(prompt: str, inputs: tuple[bytes, ...], aspect: str | None, size: str | None = None,
               seed: int | None = None) -> tuple[list[types.Content], types.GenerateContentConfig]:
    """Images first, in order, then the text, in one user turn; size and shape in imageConfig."""
    parts = [types.Part.from_bytes(data=data, mime_type=images.sniff(data) or "image/png") for data in inputs]
    parts.append(types.Part(text=prompt))
    wanted = types.ImageConfig(aspect_ratio=aspect, image_size=size) if aspect or size else None
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"], image_config=wanted, seed=seed)
    return [types.Content(role="user", parts=parts)], config


# -- reading responses ------------------------------------------------------------------------------------


class _Transient(ProviderUnavailable):
    """An answer without media: worth one more try, not more."""

    retry_once = True


def _name(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def media_part(resp: types.GenerateContentResponse, prefix: str) -> types.Blob:
    """The first non-thought inline part of the wanted kind, or the core error that explains its absence."""
    feedback = resp.prompt_feedback
    block = _name(feedback.block_reason) if feedback is not None else ""
    if block and block != "BLOCK_REASON_UNSPECIFIED":
        raise SafetyBlocked(block, detail=f"promptFeedback.blockReason={block}")
    if not resp.candidates:
        raise _Transient("The model sent back an empty answer. Please try again.", detail="no candidates")
    candidate = resp.candidates[0]
    finish = _name(candidate.finish_reason)
    if finish in BLOCKING_FINISHES:
        raise SafetyBlocked(finish, detail=f"finishReason={finish}")
    parts = (candidate.content.parts if candidate.content is not None else None) or []
    said = []
    for part in parts:
        if part.thought:
            continue
        blob = part.inline_data
        if blob is not None and (blob.mime_type or "").startswith(prefix):
            if not blob.data:
                break
            return blob
        if part.text:
            said.append(part.text.strip())
    kind = "audio" if prefix == "audio" else "image"
    if said:
        quote = " ".join(said)[:200]
        raise _Transient(f"The model answered with text instead of {kind}: “{quote}”. Try rewording the request.",
                         detail=f"text-only reply, finishReason={finish}")
    raise _Transient(f"The model returned no {kind}. Please try again.", detail=f"finishReason={finish or 'none'}")


def stream_audio(resp: types.GenerateContentResponse) -> list[types.Blob]:
    """The audio parts of one streamed chunk; a block, or a safety finish, raises like a unary answer would."""
    feedback = resp.prompt_feedback
    block = _name(feedback.block_reason) if feedback is not None else ""
    if block and block != "BLOCK_REASON_UNSPECIFIED":
        raise SafetyBlocked(block, detail=f"promptFeedback.blockReason={block}")
    if not resp.candidates:
        return []
    candidate = resp.candidates[0]
    finish = _name(candidate.finish_reason)
    if finish in BLOCKING_FINISHES:
        raise SafetyBlocked(finish, detail=f"finishReason={finish}")
    parts = (candidate.content.parts if candidate.content is not None else None) or []
    return [p.inline_data for p in parts if not p.thought and p.inline_data is not None and p.inline_data.data
            and (p.inline_data.mime_type or "").startswith("audio")]


def _retry_after(err: genai_errors.APIError) -> tuple[float | None, bool]:
    """The server's RetryInfo delay, and whether the quota is a daily one (no point retrying today)."""
    delay: float | None = None
    daily = False
    details = err.details.get("error", {}).get("details", []) if isinstance(err.details, dict) else []
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, dict):
            continue
        if str(item.get("@type", "")).endswith("RetryInfo"):
            raw = str(item.get("retryDelay", "")).rstrip("s")
            with contextlib.suppress(ValueError):
                delay = float(raw)
        daily = daily or "PerDay" in str(item)
    if delay is None and err.message and (m := _RETRY_IN.search(err.message)):
        delay = float(m[1])
    return delay, daily


def map_error(exc: BaseException, *, model: str, redact: Callable[[str], str]) -> StudioError:
    """Turn whatever the SDK or transport raised into the core error a user should see."""
    if isinstance(exc, StudioError):
        return exc
    detail = redact(f"{type(exc).__name__}: {exc}")[:500]
    if isinstance(exc, genai_errors.APIError):
        code, status = exc.code, exc.status or ""
        message = redact(exc.message or "")[:200]
        if code == 429:
            delay, daily = _retry_after(exc)
            err: StudioError = RateLimited(delay, detail=detail)
            if daily:
                err = RateLimited(delay, "Today's Gemini quota is used up. Try again tomorrow.", detail=detail)
                err.retryable = False
            return err
        if code in (408, 504) or status == "DEADLINE_EXCEEDED":
            return ProviderTimeout(detail=detail)
        if code >= 500:
            return ProviderUnavailable(detail=detail)
        fatal: StudioError
        if code == 404:
            fatal = ProviderUnavailable(
                f"The model {model} is not available (retired or misspelt): update STUDIOBOT_TTS_MODEL or "
                "STUDIOBOT_IMAGE_MODEL.", detail=detail)
        elif code in (401, 403) or "API_KEY" in str(exc.details):
            fatal = ProviderUnavailable("Gemini rejected the API key. Check GEMINI_API_KEY.", detail=detail)
        elif status == "FAILED_PRECONDITION":
            fatal = ProviderUnavailable("Gemini is not available for this account or region.", detail=detail)
        else:
            return InputError(f"The model could not take this request: {message or status}", detail=detail)
        fatal.retryable = False
        return fatal
    if isinstance(exc, TimeoutError):
        return ProviderTimeout(detail=detail)
    if isinstance(exc, aiohttp.ClientError | ConnectionError):
        return ProviderUnavailable("Lost the connection to the generation service. Please try again.",
                                   detail=detail)
    if isinstance(exc, ValueError):  # includes json.JSONDecodeError from a garbled body
        return ProviderUnavailable("The generation service sent a garbled answer. Please try again.", detail=detail)
    return ProviderUnavailable(detail=detail)


def _meter(model: str, resp: types.GenerateContentResponse) -> None:
    usage = resp.usage_metadata
    if usage is not None:
        output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
        record_usage(model, usage.prompt_token_count, output)


class _RetryTransient(retry_base):
    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if not isinstance(exc, StudioError) or not exc.retryable:
            return False
        if getattr(exc, "retry_once", False):
            return retry_state.attempt_number < 2
        delay = getattr(exc, "retry_after", None)
        return delay is None or delay <= MAX_RETRY_WAIT_S


class _WaitHonouringServer(wait_base):
    """Exponential backoff with jitter, but never sooner than the server's RetryInfo delay."""

    def __init__(self, base_s: float) -> None:
        self._backoff = wait_exponential_jitter(initial=base_s, max=MAX_RETRY_WAIT_S, jitter=base_s)

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        floor = getattr(exc, "retry_after", None) or 0.0
        return float(min(MAX_RETRY_WAIT_S, max(floor, self._backoff(retry_state))))


class GeminiProvider:
    name = "gemini"
    offline = False

    def __init__(self, settings: Settings) -> None:
        if settings.gemini_api_key is None:
            raise ValueError("GeminiProvider needs GEMINI_API_KEY")
        self.tts_model = settings.tts_model
        self.image_model = settings.image_model
        self.limits = limits_for(self.tts_model, self.image_model)
        self._attempts = settings.gemini_attempts
        self._retry_base_s = settings.gemini_retry_base_s
        self._redact = Redactor(settings.secrets())
        self._client = genai.Client(
            api_key=settings.gemini_api_key.get_secret_value(),
            http_options=types.HttpOptions(
                base_url=settings.gemini_base_url,
                timeout=int(settings.gemini_timeout_s * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    def voices(self) -> tuple[Voice, ...]:
        return VOICES

    async def speak(self, request: SpeakRequest) -> Speech:
        contents, config = speech_call(request, self.tts_model)
        blob = await self._generate(self.tts_model, contents, config, "audio")
        # decoding (WAV parsing, resampling checks) is CPU work: never on the event loop
        return await asyncio.to_thread(audio.speech_from_model, blob.data or b"", blob.mime_type or "")

    async def stream_speech(self, request: SpeakRequest) -> AsyncIterator[Speech]:
        """One streamed attempt: raw L16 chunks as they arrive; a break or an early end raises (the studio
        then falls back to ``speak``, which retries), so a partial stream is never taken for a whole one."""
        contents, config = speech_call(request, self.tts_model)
        finish = ""
        chunks = 0
        billed: types.GenerateContentResponse | None = None  # usage is cumulative: keep the last, never sum
        try:
            stream = await self._client.aio.models.generate_content_stream(
                model=self.tts_model, contents=contents, config=config)
            async for response in stream:
                billed = response if response.usage_metadata is not None else billed
                for blob in stream_audio(response):
                    chunks += 1
                    yield audio.speech_from_model(blob.data or b"", blob.mime_type or "")
                if response.candidates and response.candidates[0].finish_reason is not None:
                    finish = _name(response.candidates[0].finish_reason)
        except Exception as exc:
            err = map_error(exc, model=self.tts_model, redact=self._redact)
            log.info("gemini %s stream broke after %d chunks: %s", self.tts_model, chunks, err.detail)
            raise err from None
        finally:
            if billed is not None:
                _meter(self.tts_model, billed)  # billed even when the stream ends early
        if finish != "STOP" or not chunks:
            raise _Transient("The speech stream ended early. Please try again.",
                             detail=f"stream finishReason={finish or 'none'} after {chunks} chunks")

    async def imagine(self, request: ImagineRequest, *, seed: int | None = None) -> bytes:
        contents, config = image_call(request.prompt, request.references, request.aspect, request.size, seed)
        return await self._image(contents, config)

    async def vary(self, request: VaryRequest, *, seed: int | None = None) -> bytes:
        text = VARY_TEXT.format(prompt=request.prompt) if request.prompt else VARY_PLAIN
        aspect = await asyncio.to_thread(images.nearest_aspect, request.image, ASPECT_SIZES)
        return await self._image(*image_call(text, (request.image,), aspect, request.size, seed))

    async def upscale(self, request: UpscaleRequest) -> bytes:
        aspect = await asyncio.to_thread(images.nearest_aspect, request.image, ASPECT_SIZES)
        return await self._image(*image_call(UPSCALE_TEXT, (request.image,), aspect, request.size))

    async def blend(self, request: BlendRequest) -> bytes:
        text = request.instruction or BLEND_TEXT
        return await self._image(*image_call(text, request.images, request.aspect, request.size))

    async def _image(self, contents: list[types.Content], config: types.GenerateContentConfig) -> bytes:
        blob = await self._generate(self.image_model, contents, config, "image")
        return blob.data or b""

    async def edit(self, request: EditRequest) -> bytes:
        contents, config = image_call(request.instruction, (request.image, *request.references), request.aspect)
        blob = await self._generate(self.image_model, contents, config, "image")
        return blob.data or b""

    async def _generate(self, model: str, contents: list[types.Content], config: types.GenerateContentConfig,
                        prefix: str) -> types.Blob:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            retry=_RetryTransient(),
            wait=_WaitHonouringServer(self._retry_base_s),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    record_attempt()
                    resp = await self._client.aio.models.generate_content(
                        model=model, contents=contents, config=config
                    )
                    _meter(model, resp)  # billed even when it carries no media
                    blob = media_part(resp, prefix)
                except Exception as exc:
                    err = map_error(exc, model=model, redact=self._redact)
                    log.info("gemini %s attempt %d: %s", model, attempt.retry_state.attempt_number, err.detail)
                    raise err from None
                return blob
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self._client.aio.aclose()
