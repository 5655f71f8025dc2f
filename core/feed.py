"""A speech job's audio as it is generated, for watchers that play it before the file exists.

The studio pushes mono s16le PCM at ``FEED_RATE`` as the provider streams it; any number of
listeners read it from the start at their own pace (a Discord voice source, the playground, the
CLI). When a part has to be generated again (a stream broke mid-way), the studio rewinds the feed
to where that part began and listeners go back there: they replay a moment, they never skip audio.
``close(complete=False)`` tells listeners the clip will not be finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

FEED_RATE = 24_000
BYTES_PER_S = 2 * FEED_RATE


class AudioFeed:
    """PCM of one job in order, readable by many listeners, each from the beginning."""

    def __init__(self) -> None:
        self._pcm = bytearray()
        self._rewinds: list[int] = []
        self._changed = asyncio.Event()
        self.closed = False
        self.complete = False
        self.parts = (0, 0)  # (part being generated, of how many), for progress shown beside playback

    @property
    def size(self) -> int:
        return len(self._pcm)

    @property
    def duration_s(self) -> float:
        return len(self._pcm) / BYTES_PER_S

    def pcm(self) -> bytes:
        """Everything generated so far (the whole clip once closed complete)."""
        return bytes(self._pcm)

    def push(self, pcm: bytes) -> None:
        if self.closed or not pcm:
            return
        self._pcm += pcm[: len(pcm) - len(pcm) % 2]
        self._wake()

    def rewind(self, size: int) -> None:
        """Drop what came after byte ``size``: that stretch is being generated again."""
        if size < len(self._pcm):
            del self._pcm[size:]
            self._rewinds.append(size)
            self._wake()

    def close(self, *, complete: bool) -> None:
        if not self.closed:
            self.closed, self.complete = True, complete
            self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def listen(self, *, min_bytes: int = 1) -> AsyncIterator[bytes]:
        """PCM from the start, as it comes, in pieces of at least ``min_bytes`` (except the last)."""
        pos = 0
        seen = len(self._rewinds)
        while True:
            changed = self._changed
            for size in self._rewinds[seen:]:
                pos = min(pos, size)
            seen = len(self._rewinds)
            available = len(self._pcm) - pos
            if available >= min_bytes or (self.closed and available > 0):
                data = bytes(self._pcm[pos:])
                pos += len(data)
                yield data
                continue
            if self.closed:
                return
            await changed.wait()
