"""Everything outside the bot, in the bench's own process: fake Discord, fake Slack, the Gemini emulator.

The bot under test runs as a separate ``studiobot run`` process (``BotProcess``), as it would in
production, so its memory and its event loop are its own and every figure is read where a user
would see it: at the fake platform. The emulator sleeps ``latency_s`` before answering, standing
in for Gemini's own generation time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.app import Emulator
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.processes import clean_env, free_port, read_until

ROOT = Path(__file__).resolve().parents[1]
GEMINI_KEY = "bench-key"
LOG_TAIL = 200_000


class TimedSlack(FakeSlack):  # type: ignore[misc]
    """The fake Slack, also noting when each channel's upload was shared (the user sees the result)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.shared_at: dict[str, float] = {}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = super()._m_files_completeUploadExternal(args)
        channel = str(args.get("channel_id") or args.get("channel") or "")
        if channel:  # speech: the shared file is the result
            self.shared_at.setdefault(channel, time.monotonic())
        return answer

    def _shown(self, msg: dict[str, Any], ids: list[str]) -> None:
        """An image: the result is visible once a message shows the (unshared) upload in an image block."""
        super()._shown(msg, ids)
        if ids:
            self.shared_at.setdefault(str(msg["channel"]), time.monotonic())


@dataclass
class World:
    """The peers a bot talks to; ``latency_s`` can change between scenarios."""

    discord: FakeDiscord = field(default_factory=FakeDiscord)
    slack: TimedSlack = field(default_factory=TimedSlack)
    emulator: Any = None
    latency_s: float = 0.0
    arrivals: list[float] = field(default_factory=list)  # when each generate call reached the emulator
    problems: list[str] = field(default_factory=list)  # what went wrong, so a missing figure is explained

    def missing(self, what: str, got: int, wanted: int, wait_s: float) -> None:
        if got < wanted:
            self.problems.append(f"{what}: {wanted - got} of {wanted} never arrived within {wait_s:g} s")

    async def start(self) -> None:
        self.emulator = Emulator(api_key=GEMINI_KEY)
        self.emulator.app.middlewares.append(self._latency)
        remember_renders(self.emulator)
        await self.emulator.start()
        await self.discord.start()
        await self.slack.start()

    async def stop(self) -> None:
        await self.slack.stop()
        await self.discord.stop()
        await self.emulator.stop()

    @web.middleware
    async def _latency(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                       ) -> web.StreamResponse:
        if request.method == "POST":
            self.arrivals.append(time.monotonic())
        if self.latency_s > 0 and request.method == "POST":
            await asyncio.sleep(self.latency_s)
        return await handler(request)

    def forget(self) -> None:
        """Drop what earlier scenarios left in the fakes, so counts and scans stay per scenario."""
        self.discord.state.calls.clear()
        self.discord.state.messages.clear()
        self.discord.state.interactions.clear()
        self.discord.state.by_token.clear()
        self.slack.calls.clear()
        self.slack.uploads.clear()
        self.slack.files.clear()
        self.slack.channels.clear()
        self.slack.shared_at.clear()
        self.emulator.calls.clear()
        self.arrivals.clear()

    def env(self, data_dir: Path, slack_port: int, **settings: str) -> dict[str, str]:
        """The environment of a bot wired to this world (and to nothing real)."""
        env: dict[str, str] = clean_env(
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            STUDIOBOT_DATA_DIR=str(data_dir), STUDIOBOT_MEDIA_HOSTS="127.0.0.1",
            DISCORD_TOKEN="test-token", STUDIOBOT_DISCORD_API_BASE=self.discord.api_base,  # noqa: S106
            STUDIOBOT_DISCORD_GATEWAY_URL=self.discord.gateway_url,
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
            STUDIOBOT_SLACK_PORT=str(slack_port), STUDIOBOT_SLACK_API_URL=self.slack.api_url,
            GEMINI_API_KEY=GEMINI_KEY, STUDIOBOT_GEMINI_BASE_URL=self.emulator.base_url,
            STUDIOBOT_USER_REQUESTS_PER_MINUTE="0", STUDIOBOT_GEMINI_RETRY_BASE_S="0.1",
            **{f"STUDIOBOT_{k.upper()}": v for k, v in settings.items()},
        )
        return env


def remember_renders(emulator: Any) -> None:
    """Render each distinct answer once: Gemini draws and speaks on Google's machines, not beside the bot.

    Without this the emulator's espeak and Pillow work would share the bench machine's cores with the
    bot and become the bottleneck; ``latency_s`` stands in for the generation time instead.
    """
    media = sys.modules[type(emulator).__module__.rpartition(".")[0] + ".media"]
    setattr(media, "speak", _remembered(media.speak))  # noqa: B010 - the emulator looks it up per call
    emulator._render = _remembered(emulator._render)


def _remembered(render: Callable[..., bytes]) -> Callable[..., bytes]:
    """``render`` with its answers kept, keyed by everything it was asked (large inputs by their hash)."""
    answers: dict[int, bytes] = {}

    def remembered(*args: Any, **kwargs: Any) -> bytes:
        key = hash(repr((args, sorted(kwargs.items()))))
        if key not in answers:
            answers[key] = render(*args, **kwargs)
        return answers[key]

    return remembered


class BotProcess:
    """One bot process (``studiobot run``, or a bare bot from ``bench.bare``) wired to the world."""

    def __init__(self, world: World, argv: list[str], *, ready: tuple[str, ...], **settings: str) -> None:
        self.world = world
        self.label = " ".join(argv[2:])
        self.argv = argv
        self.ready = ready
        self.settings = settings
        self.slack_port = free_port()
        self.proc: asyncio.subprocess.Process | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="studiobot-bench-")
        self._drain: asyncio.Task[None] | None = None
        self._log = b""

    @classmethod
    def studiobot(cls, world: World, **settings: str) -> BotProcess:
        return cls(world, [sys.executable, "-m", "bots", "run"], ready=("logged in as", "/slack/events"),
                   **settings)

    @classmethod
    def bare(cls, world: World, platform: str) -> BotProcess:
        return cls(world, [sys.executable, "-m", "bench.bare", platform], ready=("ready",))

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.slack_port}/slack/events"

    async def __aenter__(self) -> BotProcess:
        env = self.world.env(Path(self._tmp.name), self.slack_port, **self.settings)
        self.proc = await asyncio.create_subprocess_exec(*self.argv, env=env, cwd=ROOT,
                                                         stdout=asyncio.subprocess.DEVNULL,
                                                         stderr=asyncio.subprocess.PIPE)
        try:
            await read_until(self.proc.stderr, *self.ready, timeout=60)
        except BaseException:  # never ready: no process or temp dir is left behind for the caller to miss
            await self.__aexit__()
            raise
        self._drain = asyncio.create_task(self._discard(self.proc.stderr))
        return self

    async def _discard(self, stream: asyncio.StreamReader | None) -> None:
        """Keep reading the bot's log so a full pipe never blocks it; the tail is kept for ``log``."""
        assert stream is not None
        while chunk := await stream.read(65536):
            self._log = (self._log + chunk)[-LOG_TAIL:]

    def _report_errors(self) -> None:
        """Errors the bot logged become the world's problems, counted by kind (ids and numbers folded)."""
        errors = [line.split("ERROR", 1)[1].strip() for line in self.log.splitlines() if "ERROR" in line]
        if errors:
            kinds = Counter(re.sub(r"\S*\d\S*", "…", e)[:120] for e in errors)
            common = "; ".join(f"{n}x {kind}" for kind, n in kinds.most_common(3))
            self.world.problems.append(f"`{self.label}` logged {len(errors)} errors: {common}")

    @property
    def log(self) -> str:
        """The end of what the bot wrote to stderr, for explaining a scenario that went wrong."""
        return self._log.decode(errors="replace")

    async def __aexit__(self, *exc: object) -> None:
        self._report_errors()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)  # what it was doing no longer matters
            await self.proc.wait()
        if self._drain is not None:
            with contextlib.suppress(Exception):
                await self._drain
        self._tmp.cleanup()

    def rss_mb(self) -> tuple[float, float]:
        """The process's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
        assert self.proc is not None
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    @property
    def data_dir(self) -> Path:
        return Path(self._tmp.name)


async def until(check: Callable[[], bool], wait_s: float, poll_s: float = 0.05) -> bool:
    """Poll ``check`` until true or ``wait_s`` passed; returns whether it became true."""
    deadline = time.monotonic() + wait_s
    while not check():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll_s)
    return True
