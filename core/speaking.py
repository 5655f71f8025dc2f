"""Speech jobs: long texts in parts, each part streamed into the job's audio feed, one clip at the end.

Every part is a request with the same voice, speakers, style and language, generated in order.
A part whose stream breaks or ends early is rewound out of the feed and generated again with the
provider's whole-clip call (which retries), so the clip is never half a part short; a refusal or
bad input fails the job.
"""

from __future__ import annotations

import audioop
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from core.errors import StudioError
from core.feed import BYTES_PER_S, FEED_RATE, AudioFeed
from core.longtext import split_text
from core.providers.base import Provider, Speech
from core.requests import SpeakRequest

log = logging.getLogger(__name__)

PART_GAP_S = 0.3  # the pause between two parts, as between paragraphs
OnPart = Callable[[int, int], Awaitable[None]]


class _ToFeedRate:
    """Resample a stream's chunks to the feed's rate, carrying the filter state across chunks (no clicks)."""

    def __init__(self) -> None:
        self._state: tuple[int, tuple[tuple[int, int], ...]] | None = None
        self._rate = 0

    def __call__(self, speech: Speech) -> bytes:
        pcm = speech.pcm[: len(speech.pcm) - len(speech.pcm) % 2]
        if speech.sample_rate == FEED_RATE or not pcm:
            return pcm
        if speech.sample_rate != self._rate:
            self._state, self._rate = None, speech.sample_rate
        out, self._state = audioop.ratecv(pcm, 2, 1, speech.sample_rate, FEED_RATE, self._state)
        return bytes(out)


def speech_parts(request: SpeakRequest, part_chars: int) -> list[SpeakRequest]:
    """The request as parts of at most ``part_chars``: paragraphs, sentences, whole dialogue lines."""
    texts = split_text(request.text, part_chars, dialogue=len(request.speakers) == 2)
    return [dataclasses.replace(request, text=text) for text in texts] or [request]


async def _stream_part(provider: Provider, part: SpeakRequest, feed: AudioFeed) -> None:
    convert = _ToFeedRate()
    async for chunk in provider.stream_speech(part):
        feed.push(convert(chunk))


async def generate(provider: Provider, request: SpeakRequest, feed: AudioFeed, *, on_part: OnPart) -> Speech:
    """All parts in order into ``feed``; the joined speech at the feed's rate."""
    parts = speech_parts(request, provider.limits.max_text_chars)
    for n, part in enumerate(parts, start=1):
        feed.parts = (n, len(parts))
        if len(parts) > 1:
            await on_part(n, len(parts))
        if n > 1:
            feed.push(b"\x00\x00" * round(PART_GAP_S * FEED_RATE))
        start = feed.size
        try:
            await _stream_part(provider, part, feed)
        except StudioError as err:
            if not err.retryable:
                raise
            log.info("part %d of %d: stream failed (%s); generating it whole", n, len(parts), err.detail or err)
            feed.rewind(start)
            feed.push(_ToFeedRate()(await provider.speak(part)))
        if feed.size == start:
            raise StudioError("The voice model returned no audio for part of the text. Please try again.")
    log.debug("speech: %d parts, %.1f s", len(parts), feed.size / BYTES_PER_S)
    return Speech(feed.pcm(), FEED_RATE)
