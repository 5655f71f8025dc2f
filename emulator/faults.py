"""Scripted misbehaviour, so tests can make the emulator fail the way Gemini does.

A test appends ``Fault`` entries with ``Emulator.script``; each generateContent request takes the
first entry whose model filter matches it.  ``x-emulator-fault`` does the same for one request.
"""

from __future__ import annotations

import json
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

# google.rpc codes Gemini puts in ``error.status`` for each HTTP status.
STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES: dict[int, str] = {
    400: "Request contains an invalid argument.",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}
# Only values the SDK's enums know: anything else makes it warn, which fails tests under -W error.
# fmt: off
FINISH_REASONS = frozenset({
    "STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "LANGUAGE", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT",
    "SPII", "MALFORMED_FUNCTION_CALL", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_OTHER", "NO_IMAGE",
    "IMAGE_RECITATION", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "MALFORMED_RESPONSE",
})
# fmt: on
BLOCK_REASONS = frozenset({"SAFETY", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "IMAGE_SAFETY"})


def error_body(status: int, message: str, details: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """Google's error envelope, which the SDK turns into ClientError/ServerError."""
    error: dict[str, Any] = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    if details:
        error["details"] = list(details)
    return {"error": error}


def retry_info(retry_delay: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted misbehaviour; build it with the classmethods, not the constructor."""

    kind: str
    seconds: float = 0.0
    status: int = 0
    retry_delay: str | None = None
    message: str | None = None
    reason: str = ""
    text: str = ""
    chunks: int = 0

    @property
    def mid_stream(self) -> bool:
        """Faults that only a streamed answer can show; a unary request answers normally."""
        return self.kind in ("cut", "end")

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """Wait, then answer normally: exercises client timeouts."""
        return cls("latency", seconds=seconds)

    @classmethod
    def http(cls, status: int, *, retry_delay: str | None = None, message: str | None = None) -> Fault:
        """Answer with Google's error JSON; a 429 with ``retry_delay`` carries RetryInfo."""
        if not 400 <= status <= 599:
            raise ValueError(f"not an error status: {status}")
        return cls("http", status=status, retry_delay=retry_delay, message=message)

    @classmethod
    def malformed(cls) -> Fault:
        """200 labelled JSON whose body is not JSON."""
        return cls("malformed")

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without a response."""
        return cls("drop")

    @classmethod
    def blocked(cls, reason: str = "PROHIBITED_CONTENT") -> Fault:
        """200 with promptFeedback.blockReason and no candidates."""
        return cls("blocked", reason=_known(reason, BLOCK_REASONS))

    @classmethod
    def finish(cls, reason: str) -> Fault:
        """200 with one content-less candidate ending for ``reason`` (SAFETY, IMAGE_SAFETY, OTHER…)."""
        if reason == "CONTINUATION":
            raise ValueError("CONTINUATION makes the SDK call again; never send it")
        return cls("finish", reason=_known(reason, FINISH_REASONS))

    @classmethod
    def text_only(cls, text: str = "I can't draw that.") -> Fault:
        """200 with a single text part: the refusal an image model gives instead of an image."""
        return cls("text_only", text=text)

    @classmethod
    def empty_audio(cls) -> Fault:
        """200 with an audio part of zero bytes."""
        return cls("empty_audio")

    @classmethod
    def cut(cls, after_chunks: int = 1) -> Fault:
        """Stream ``after_chunks`` audio chunks, then drop the connection: a stream broken mid-way."""
        return cls("cut", chunks=max(0, after_chunks))

    @classmethod
    def end(cls, reason: str = "OTHER", after_chunks: int = 1) -> Fault:
        """Stream ``after_chunks`` chunks, then end with ``reason`` and no more audio (long streams end OTHER)."""
        return cls("end", reason=_known(reason, FINISH_REASONS), chunks=max(0, after_chunks))

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Read ``x-emulator-fault``: ``503``, ``429:22s``, ``drop``, ``finish:SAFETY``, ``latency:2``, ``cut:3``,
        ``end:OTHER:2``…"""
        name, _, arg = spec.strip().partition(":")
        name = name.strip().lower().replace("-", "_")
        arg = arg.strip()
        if name.isdigit():
            return cls.http(int(name), retry_delay=arg or None)
        if name == "latency":
            return cls.latency(float(arg or "1"))
        if name == "blocked":
            return cls.blocked(arg.upper() or "PROHIBITED_CONTENT")
        if name == "finish":
            return cls.finish(arg.upper() or "OTHER")
        if name == "cut":
            return cls.cut(int(arg or "1"))
        if name == "end":
            reason, _, count = arg.partition(":")
            return cls.end(reason.upper() or "OTHER", int(count or "1"))
        if name == "text_only":
            return cls.text_only(arg or "I can't draw that.")
        simple = {"malformed": cls.malformed, "drop": cls.drop, "empty_audio": cls.empty_audio}
        if name in simple:
            return simple[name]()
        if name.upper() in FINISH_REASONS:
            return cls.finish(name.upper())
        raise ValueError(f"unknown fault: {spec!r}")


def _known(reason: str, allowed: frozenset[str]) -> str:
    if reason not in allowed:
        raise ValueError(f"{reason!r} is not one of {sorted(allowed)}")
    return reason


class FaultScript:
    """A FIFO of faults, each optionally reserved for one model."""

    def __init__(self) -> None:
        self._queue: deque[tuple[str | None, Fault]] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, faults: tuple[Fault, ...], model: str | None = None) -> None:
        model = model.removeprefix("models/") if model else None
        self._queue.extend((model, fault) for fault in faults)

    def take(self, model: str) -> Fault | None:
        """Pop the first fault meant for ``model`` (or for any model)."""
        for entry in self._queue:
            if entry[0] is None or entry[0] == model:
                self._queue.remove(entry)
                return entry[1]
        return None

    def clear(self) -> None:
        self._queue.clear()


def _ok(payload: dict[str, Any], stream: bool) -> web.Response:
    """A 200 body, as one server-sent event when the request was a stream."""
    if not stream:
        return web.json_response(payload)
    return web.Response(body=b"data: " + json.dumps(payload).encode() + b"\r\n\r\n",
                        headers={"Content-Type": "text/event-stream"})


def answer(request: web.Request, fault: Fault, model: str, *, audio_mime: str, stream: bool = False) -> web.Response:
    """Misbehave as ``fault`` says; a drop closes the socket so the client sees a disconnection."""
    if fault.kind == "drop":
        request.protocol.force_close()  # aiohttp then fails to write this response, quietly
        return web.Response(status=500)
    if fault.kind == "malformed":
        return web.Response(text='{"candidates": [{"content": <html>', content_type="application/json")
    if fault.kind == "http":
        message = fault.message or DEFAULT_MESSAGES.get(fault.status, "Error.")
        details: tuple[dict[str, Any], ...] = ()
        if fault.retry_delay is not None:
            message = fault.message or f"{message} Please retry in {fault.retry_delay}."
            details = (retry_info(fault.retry_delay),)
        return web.json_response(error_body(fault.status, message, details), status=fault.status)
    version = {"modelVersion": model, "responseId": secrets.token_urlsafe(16)}
    if fault.kind == "blocked":
        return _ok({"promptFeedback": {"blockReason": fault.reason}, **version}, stream)
    candidate: dict[str, Any] = {"finishReason": "STOP", "index": 0}
    if fault.kind == "finish":
        candidate["finishReason"] = fault.reason
    elif fault.kind == "text_only":
        candidate["content"] = {"parts": [{"text": fault.text}], "role": "model"}
    elif fault.kind == "empty_audio":
        candidate["content"] = {"parts": [{"inlineData": {"mimeType": audio_mime, "data": ""}}], "role": "model"}
    return _ok({"candidates": [candidate], **version}, stream)
