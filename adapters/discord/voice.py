"""Playing clips in a voice channel: one queue per server, join on demand, leave when idle.

The clip is already OGG/Opus; ``FFmpegOpusAudio`` (with imageio-ffmpeg's binary) hands discord.py
ready 20 ms Opus packets, so no system libopus or ffmpeg is needed. Speech still being generated
plays from the job's audio feed: its PCM goes through the same ffmpeg as it arrives, so the first
20 ms frame leaves as soon as the first chunk is encoded, and the posted file is the same speech.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import queue
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import discord
import imageio_ffmpeg

from core.feed import FEED_RATE, AudioFeed
from core.results import AudioClip
from core.tasks import TaskOwner

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 15.0
DEFAULT_IDLE_S = 120.0
VoiceChannel = discord.VoiceChannel | discord.StageChannel
VoiceFactory = Callable[[discord.Client, discord.abc.Connectable], discord.VoiceProtocol]
Playable = AudioClip | AudioFeed
LIVE_INPUT = f"-f s16le -ar {FEED_RATE} -ac 1"
LIVE_OUTPUT = "-page_duration 20000 -flush_packets 1"  # every 20 ms packet leaves ffmpeg at once


class VoiceUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Playback(Protocol):
    """What the player uses of a voice client (``discord.VoiceClient`` or a test double)."""

    channel: Any

    def play(self, source: discord.AudioSource, *, after: Callable[[Exception | None], Any] | None = None) -> None:
        ...

    def is_connected(self) -> bool: ...

    async def move_to(self, channel: discord.abc.Snowflake | None) -> None: ...

    async def disconnect(self, *, force: bool = False) -> None: ...


@functools.cache
def ffmpeg() -> str:
    return str(imageio_ffmpeg.get_ffmpeg_exe())


class OpusClip(discord.FFmpegOpusAudio):
    """``FFmpegOpusAudio`` that also reaps ffmpeg and closes its pipes (discord.py can leave both to the GC)."""

    def _spawn_process(self, args: Any, **subprocess_kwargs: Any) -> subprocess.Popen[bytes]:
        """Unbuffered stdin, so streamed PCM reaches ffmpeg the moment it is written; buffered stdout, because
        discord.py's Ogg reader takes a short read from a raw pipe for the end of a page (clips cut short)."""
        process = super()._spawn_process(args, bufsize=0, **subprocess_kwargs)
        if isinstance(process.stdout, io.RawIOBase):
            process.stdout = io.BufferedReader(process.stdout)
        return process

    def _kill_process(self) -> None:
        proc = getattr(self, "_process", None)
        super()._kill_process()
        if isinstance(proc, subprocess.Popen) and proc.returncode is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        for pipe in (getattr(proc, "stdout", None), getattr(proc, "stdin", None), getattr(proc, "stderr", None)):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def opus_source(clip: AudioClip) -> discord.FFmpegOpusAudio:
    """20 ms Opus packets from the clip, through the bundled ffmpeg."""
    return OpusClip(io.BytesIO(clip.data), pipe=True, executable=ffmpeg())


class FeedPipe(io.RawIOBase):
    """A blocking file over a job's audio feed, for discord.py's stdin writer thread.

    An owned task copies the feed into a thread-safe queue; ``read`` blocks in discord.py's thread
    (never on the event loop) and returns b"" once the feed is over.
    """

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._rest = b""
        self._over = False

    async def pump(self, feed: AudioFeed) -> None:
        try:
            async for pcm in feed.listen(min_bytes=1920):  # 40 ms: two Opus frames' worth
                self._queue.put(pcm)
        finally:
            self._queue.put(None)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if not self._rest and not self._over:
            item = self._queue.get()
            if item is None:
                self._over = True
            else:
                self._rest = item
        n = len(self._rest) if size is None or size < 0 else size
        out, self._rest = self._rest[:n], self._rest[n:]
        return out


def live_source(pipe: FeedPipe) -> discord.FFmpegOpusAudio:
    """20 ms Opus packets from speech as it is generated."""
    return OpusClip(pipe, pipe=True, executable=ffmpeg(), before_options=LIVE_INPUT,  # type: ignore[arg-type]
                    options=LIVE_OUTPUT)


def _finished(loop: asyncio.AbstractEventLoop, done: asyncio.Event, error: Exception | None) -> None:
    """discord.py calls ``after`` from its player thread."""
    if error is not None:
        log.warning("voice playback failed: %r", error)
    loop.call_soon_threadsafe(done.set)


@dataclass
class _Guild:
    queue: asyncio.Queue[tuple[VoiceChannel, Playable]] = field(default_factory=asyncio.Queue)
    client: Playback | None = None
    worker: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # joining and leaving never interleave


class VoicePlayer:
    def __init__(self, *, factory: VoiceFactory | None = None, idle_s: float = DEFAULT_IDLE_S) -> None:
        self.factory: VoiceFactory = factory or discord.VoiceClient
        self.idle_s = idle_s
        self._guilds: dict[int, _Guild] = {}
        self._tasks = TaskOwner("voice")
        self.live_jobs: set[str] = set()  # speech jobs already playing from their feed: not played again

    def _check(self, channel: VoiceChannel) -> None:
        me = channel.guild.me
        perms = channel.permissions_for(me) if me is not None else None
        if perms is None or not perms.connect:
            raise VoiceUnavailable(f"I'm not allowed to join {channel.mention}.")
        if not perms.speak:
            raise VoiceUnavailable(f"I'm not allowed to speak in {channel.mention}.")

    async def _connect(self, state: _Guild, channel: VoiceChannel) -> Playback:
        if state.client is not None and state.client.is_connected():
            if state.client.channel != channel:
                await state.client.move_to(channel)
            return state.client
        self._check(channel)
        try:
            vc = await channel.connect(cls=self.factory, timeout=CONNECT_TIMEOUT_S, self_deaf=True)
        except discord.ClientException as err:
            raise VoiceUnavailable("I'm already busy in another voice channel.") from err
        except (TimeoutError, RuntimeError, OSError) as err:  # RuntimeError: voice support not installed
            log.warning("voice connect failed: %r", err)
            raise VoiceUnavailable("I couldn't connect to the voice channel.") from err
        state.client = cast(Playback, vc)
        return state.client

    async def enqueue(self, channel: VoiceChannel, clip: Playable, *, job_id: str | None = None) -> None:
        """Join now (so failures can be reported), then play after whatever is already queued.

        A feed plays from its start whenever its turn comes, as far as it has been generated.
        """
        state = self._guilds.setdefault(channel.guild.id, _Guild())
        async with state.lock:
            await self._connect(state, channel)
        if isinstance(clip, AudioFeed) and job_id is not None:
            self.live_jobs.add(job_id)
        state.queue.put_nowait((channel, clip))
        if state.worker is None or state.worker.done():
            state.worker = self._tasks.spawn(self._work(channel.guild.id, state), name=f"voice-{channel.guild.id}")

    async def _work(self, guild_id: int, state: _Guild) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    channel, clip = await asyncio.wait_for(state.queue.get(), self.idle_s)
                except TimeoutError:
                    return
                try:
                    async with state.lock:
                        vc = await self._connect(state, channel)
                except VoiceUnavailable as err:
                    log.info("skipping a clip in %s: %s", guild_id, err.reason)
                    continue
                done = asyncio.Event()
                if isinstance(clip, AudioFeed):
                    pipe = FeedPipe()
                    self._tasks.spawn(pipe.pump(clip), name=f"voice-feed-{guild_id}")
                    source = live_source(pipe)
                else:
                    source = opus_source(clip)
                vc.play(source, after=functools.partial(_finished, loop, done))
                await done.wait()
        finally:
            async with state.lock:  # a clip queued meanwhile waits, then starts a fresh worker
                client, state.client, state.worker = state.client, None, None
                if client is not None:
                    with contextlib.suppress(Exception):
                        await client.disconnect(force=False)

    async def close(self) -> None:
        await self._tasks.close()
