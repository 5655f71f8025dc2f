"""A local stand-in for the Gemini REST API that the real google-genai client talks to.

It checks requests the way Gemini does (key, model id, modalities, voices, ratios), renders real
media (espeak speech, Pillow pictures) and misbehaves on cue (``faults.py``), so every layer
above the SDK can be tested without a network or a bill.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from emulator import media
from emulator.faults import Fault, FaultScript, answer, error_body
from emulator.stream import Pacing, stream_speech
from emulator.wire import (
    ASPECT_SIZES,
    AUDIO_TOKENS_PER_S,
    IMAGE_SIZES,
    IMAGE_TOKENS,
    L16,
    MAX_INPUT_IMAGES,
    MODELS,
    ApiError,
    Call,
    Model,
    b64decode,
    b64encode,
    bad_modalities,
    dialogue,
    modalities,
    response_body,
    snake,
    user_parts,
    voice_of,
)

log = logging.getLogger(__name__)

class Emulator:
    """The emulator: an aiohttp app plus the script and the record a test drives it with."""

    def __init__(self, *, api_key: str | None = None, pacing: Pacing | None = None) -> None:
        self.api_key = api_key
        self.pacing = pacing or Pacing()
        self.calls: list[Call] = []
        self.spoken: list[float] = []  # seconds of speech rendered per speech request, in order
        self.digests: list[str] = []  # sha256 of each request's rendered PCM, to check a stream's reassembly
        self.open_streams = 0  # speech streams still sending: lets tests order "heard" before "finished"
        self.faults = FaultScript()
        self.base_url = ""
        self.app = web.Application()
        self.app.router.add_get("/", self._index)
        self.app.router.add_post(r"/{version:v1|v1beta|v1alpha}/{tail:models/.+}", self._generate)
        self._runner: web.AppRunner | None = None

    def script(self, *faults: Fault, model: str | None = None) -> None:
        """Queue faults for the next requests (to ``model`` only, if given)."""
        self.faults.add(faults, model)

    def reset(self) -> None:
        self.calls.clear()
        self.spoken.clear()
        self.digests.clear()
        self.faults.clear()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port) and return the base URL for HttpOptions."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{'[' + bound_host + ']' if ':' in bound_host else bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text="Studiobot Gemini emulator. Models: " + ", ".join(MODELS) + "\n")

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["tail"].rpartition(":")
        while model.startswith("models/"):
            model = model.removeprefix("models/")
        key = request.headers.get("x-goog-api-key") or request.query.get("key") or None
        started = time.monotonic()
        raw = await request.read()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        self.calls.append(Call(request.path, model, body if isinstance(body, dict) else {}, key))
        stream = method == "streamGenerateContent"
        try:
            self._check_key(key)
            if method not in ("generateContent", "streamGenerateContent"):
                raise ApiError(404, f"Method {method or '(none)'} is not found.")
            fault = self._fault_for(request, model)
            if fault is not None and fault.kind != "latency" and not fault.mid_stream:
                spec = MODELS.get(model)
                wav = spec is not None and spec.wav and not stream
                return answer(request, fault, model, audio_mime="audio/wav" if wav else L16, stream=stream)
            if fault is not None and fault.kind == "latency":
                await asyncio.sleep(fault.seconds)
            spec = MODELS.get(model)
            if spec is None:
                raise ApiError(
                    404,
                    f"models/{model} is not found for API version {request.match_info['version']}, or is not "
                    "supported for generateContent. Call ListModels to see the list of available models and "
                    "their supported methods.",
                )
            if not isinstance(body, dict):
                raise ApiError(400, "Invalid JSON payload received. Unexpected token.")
            request_body = snake(body)
            if spec.kind == "tts" and stream:
                pcm, prompt_tokens = await self._voice(model, spec, request_body)
                cut = fault if fault is not None and fault.mid_stream else None
                self.open_streams += 1
                try:
                    return await stream_speech(
                        request, model, pcm, prompt_tokens, pacing=self.pacing, started=started,
                        cut_after=cut.chunks if cut is not None else None,
                        end_reason=cut.reason if cut is not None and cut.kind == "end" else None,
                    )
                finally:
                    self.open_streams -= 1
            if spec.kind == "tts":
                payload = await self._speak(model, spec, request_body)
            else:
                payload = await self._draw(model, spec, request_body)
        except ApiError as err:
            return web.json_response(error_body(err.status, err.message, err.details), status=err.status)
        return await self._send(request, payload, stream=stream)

    def _check_key(self, key: str | None) -> None:
        if not key:
            raise ApiError(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        if self.api_key is not None and key != self.api_key:
            raise ApiError(
                400,
                "API key not valid. Please pass a valid API key.",
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                },
            )

    def _fault_for(self, request: web.Request, model: str) -> Fault | None:
        spec = request.headers.get("x-emulator-fault")
        if spec:
            try:
                return Fault.parse(spec)
            except ValueError as err:
                raise ApiError(400, f"x-emulator-fault: {err}") from err
        return self.faults.take(model)

    async def _send(self, request: web.Request, payload: dict[str, Any], *, stream: bool) -> web.StreamResponse:
        if not stream:
            return web.json_response(payload)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: " + json.dumps(payload).encode() + b"\r\n\r\n")
        await response.write_eof()
        return response

    async def _speak(self, model: str, spec: Model, body: dict[str, Any]) -> dict[str, Any]:
        pcm, prompt_tokens = await self._voice(model, spec, body)
        data, mime = (media.wav(pcm), "audio/wav") if spec.wav else (pcm, L16)
        seconds = len(pcm) / (2 * media.RATE)
        return response_body(
            model,
            [{"inlineData": {"mimeType": mime, "data": b64encode(data)}}],
            modality="AUDIO",
            out_tokens=max(1, round(seconds * AUDIO_TOKENS_PER_S)),
            prompt_tokens=prompt_tokens,
        )

    async def _voice(self, model: str, spec: Model, body: dict[str, Any]) -> tuple[bytes, int]:
        """Check a speech request like Gemini does; the PCM it asks for and its prompt token count."""
        config = body.get("generation_config") or {}
        asked = modalities(config, ["TEXT"])
        if asked != ["AUDIO"]:
            raise bad_modalities(model, asked, "* AUDIO\n")
        if not spec.sampling:
            for name in ("temperature", "top_p", "top_k"):
                if name in config:
                    raise ApiError(400, f"{name} is not supported for models/{model}.")
        speech = config.get("speech_config") or {}
        multi = speech.get("multi_speaker_voice_config")
        parts = [p for p in user_parts(body) if isinstance(p.get("text"), str)]
        if not any(p["text"].strip() for p in parts):
            raise ApiError(400, "Text to speak must not be empty.")
        if multi is not None and speech.get("voice_config") is not None:
            raise ApiError(400, "Only one of voice_config and multi_speaker_voice_config may be set.")
        if multi is not None:
            turns = self._speakers(model, spec, multi, parts)
        else:
            voice = voice_of(speech.get("voice_config"))
            if voice is None and spec.needs_voice:
                raise ApiError(400, f"A voice must be set in speech_config for models/{model}.")
            turns = [("\n".join(p["text"] for p in parts), voice or "Kore")]
        pcm = await asyncio.to_thread(media.speak, turns, speech.get("language_code"))
        self.spoken.append(len(pcm) / (2 * media.RATE))
        self.digests.append(hashlib.sha256(pcm).hexdigest())
        return pcm, 1 + sum(len(p["text"]) for p in parts) // 4

    def _speakers(self, model: str, spec: Model, multi: Any, parts: list[dict[str, Any]]) -> list[tuple[str, str]]:
        if not spec.multi_speaker:
            raise ApiError(400, f"Multi-speaker voice config is not supported by models/{model}.")
        configs = multi.get("speaker_voice_configs") if isinstance(multi, dict) else None
        if not isinstance(configs, list) or len(configs) != 2:
            count = len(configs) if isinstance(configs, list) else 0
            raise ApiError(400, f"multi_speaker_voice_config must have exactly 2 speaker_voice_configs, got {count}.")
        speakers: dict[str, str] = {}
        for config in configs:
            name = str(config.get("speaker") or "").strip() if isinstance(config, dict) else ""
            voice = voice_of(config.get("voice_config")) if isinstance(config, dict) else None
            if not name or voice is None:
                raise ApiError(400, "Each speaker_voice_config needs a speaker and a voice_config.")
            if name.lower() in (s.lower() for s in speakers):
                raise ApiError(400, f"Speaker {name} appears twice in speaker_voice_configs.")
            speakers[name] = voice
        return dialogue(parts, speakers, use_metadata=spec.wav)

    async def _draw(self, model: str, spec: Model, body: dict[str, Any]) -> dict[str, Any]:
        config = body.get("generation_config") or {}
        asked = modalities(config, ["TEXT", "IMAGE"])
        if not set(asked) <= {"TEXT", "IMAGE"}:
            raise bad_modalities(model, asked, "* TEXT, IMAGE\n* IMAGE\n")
        image_config = config.get("image_config") or {}
        aspect = image_config.get("aspect_ratio")
        if aspect is not None and aspect not in ASPECT_SIZES:
            raise ApiError(400, f"Unsupported aspect ratio: {aspect}. Supported: {', '.join(ASPECT_SIZES)}.")
        image_size = str(image_config.get("image_size") or "1K").upper()
        if image_size not in spec.sizes:
            raise ApiError(400, f"Unsupported image_size {image_size} for models/{model}: {', '.join(spec.sizes)}.")
        parts = user_parts(body)
        sources = [p["inline_data"] for p in parts if isinstance(p.get("inline_data"), dict)]
        prompt = " ".join(str(p["text"]) for p in parts if isinstance(p.get("text"), str)).strip()
        if not prompt and not sources:
            raise ApiError(400, "Provide a text prompt or an image.")
        if len(sources) > MAX_INPUT_IMAGES:
            raise ApiError(400, f"Too many input images: {len(sources)} > {MAX_INPUT_IMAGES}.")
        scale = IMAGE_SIZES[image_size]
        size = ASPECT_SIZES[aspect] if aspect else (None if sources else ASPECT_SIZES["1:1"])
        if size is None and "image_size" in image_config:  # an edit at a set size keeps the source's shape
            size = media.nearest_size(b64decode(str(sources[0].get("data") or "")), ASPECT_SIZES)
        if size is not None:
            size = (round(size[0] * scale), round(size[1] * scale))
        seed = config.get("seed")
        data = await asyncio.to_thread(self._render, sources, prompt, size, spec.jpeg, seed)
        thought = "**Planning the picture**\n\nI'm working out the composition, colours and text placement."
        image_parts: list[dict[str, Any]] = [{"text": thought, "thought": True}]
        if "IMAGE" in asked:
            image_parts.append({"inlineData": {"mimeType": "image/png", "data": b64encode(data)}})
        else:
            image_parts.append({"text": f"I would draw: {prompt}"})
        return response_body(
            model,
            image_parts,
            modality="IMAGE" if "IMAGE" in asked else "TEXT",
            out_tokens=IMAGE_TOKENS,
            prompt_tokens=1 + len(prompt) // 4 + 258 * len(sources),
        )

    @staticmethod
    def _render(sources: list[dict[str, Any]], prompt: str, size: tuple[int, int] | None, jpeg: bool,
                seed: object = None) -> bytes:
        """Draw, edit or blend off the loop; bad input image bytes become Gemini's 400."""
        key = prompt if seed is None else f"{prompt}#{seed}"  # a seed changes the picture, as on Gemini
        if not sources:
            img = media.render_image(prompt, size or ASPECT_SIZES["1:1"], seed=key)
        else:
            try:
                originals = [media.open_image(b64decode(str(s.get("data") or ""))) for s in sources]
            except (binascii.Error, ValueError) as err:
                raise ApiError(
                    400,
                    "Unable to process input image. Please retry or report in "
                    "https://developers.generativeai.google/guide/troubleshooting",
                ) from err
            if len(originals) > 1:
                img = media.render_blend(originals, prompt, size or ASPECT_SIZES["1:1"])
            else:
                img = media.render_edit(originals[0], prompt, size, seed=key)
        return media.encode(img, "JPEG" if jpeg else "PNG")


async def serve(host: str, port: int, api_key: str | None, *, on_ready: Callable[[str], None] | None = None,
                pacing: Pacing | None = None) -> None:
    """Run an emulator until cancelled; ``on_ready`` gets the base URL once it listens."""
    emulator = Emulator(api_key=api_key, pacing=pacing)
    url = await emulator.start(host, port)
    log.info("Gemini emulator listening on %s", url)
    if on_ready is not None:
        on_ready(url)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()
