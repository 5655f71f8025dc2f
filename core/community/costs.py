"""Estimated spend: the provider's token counts times per-million-token prices.

The provider reports each billed response with ``record_usage`` (a context variable, so the studio
gets the counts of exactly the job it ran, however many attempts it took); the studio prices them.
Prices come from settings; unset ones default to Gemini's list prices for the configured model.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# USD per 1M tokens (input, output), Gemini Developer API list prices last seen (see README "Running a community").
LIST_PRICES: dict[str, tuple[float, float]] = {
    "gemini-2.5-flash-preview-tts": (0.50, 10.0),
    "gemini-2.5-pro-preview-tts": (1.00, 20.0),
    "gemini-3.1-flash-tts-preview": (1.00, 20.0),
    "gemini-3.8-flash-tts": (0.50, 6.0),
    "gemini-3.8-flash-lite-tts": (0.50, 6.0),
    "gemini-2.5-flash-image": (0.30, 30.0),
    "gemini-3.1-flash-image": (0.50, 60.0),
    "gemini-3.1-flash-lite-image": (0.50, 60.0),
    "gemini-3-pro-image": (2.00, 120.0),
}
FALLBACK = {"speech": (1.00, 20.0), "image": (2.00, 120.0)}  # unknown model: assume the dearest of its kind


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """One billed provider response."""

    model: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens for one kind of output."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, usage: TokenUsage) -> float:
        return (usage.input_tokens * self.input_per_mtok + usage.output_tokens * self.output_per_mtok) / 1e6


def list_prices(model: str, kind: str) -> Prices:
    base = model.removesuffix("-preview") if model not in LIST_PRICES else model
    found = LIST_PRICES.get(model) or LIST_PRICES.get(base) or FALLBACK[kind]
    return Prices(*found)


@dataclass
class Meter:
    """What one job's provider calls cost and how many attempts they took."""

    usages: list[TokenUsage] = field(default_factory=list)
    attempts: int = 0


_meter: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("studiobot_meter", default=None)


def record_usage(model: str, input_tokens: int | None, output_tokens: int | None) -> None:
    """Called by providers after every billed response; a no-op outside ``metering()``."""
    found = _meter.get()
    if found is not None:
        found.usages.append(TokenUsage(model, int(input_tokens or 0), int(output_tokens or 0)))


def record_attempt() -> None:
    """Called by providers before every call, so retries can be counted."""
    found = _meter.get()
    if found is not None:
        found.attempts += 1


@contextmanager
def metering() -> Iterator[Meter]:
    """Collect the usage the provider reports while the block runs (in this task only)."""
    collected = Meter()
    token = _meter.set(collected)
    try:
        yield collected
    finally:
        _meter.reset(token)
