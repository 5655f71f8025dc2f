"""N simulated users at once: each sends a command, and the fake notes when the ack and the result arrive.

Times are taken in the bench process on one monotonic clock: ``sent`` just before the fake pushes
the interaction (Discord) or posts the slash command (Slack); the ack when the fake records the
interaction callback or receives the HTTP answer; the result when the fake records the upload
that carries the file (Discord: the edit of the original response; Slack: the shared upload).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from io import BytesIO

import aiohttp
from PIL import Image

from bench.world import World, until
from tests.fakes.discord import Interaction
from tests.fakes.slack import TEAM, SlackSender

KINDS = ("speak", "imagine", "edit")
# The same words from every user: the emulator renders each distinct answer once (see world.py).
SPOKEN = "Benchmark line, spoken clearly: the quick brown fox jumps over the lazy dog."
DRAWN = "benchmark card"
EDITED = "make it night"
_trigger = itertools.count(1)


@dataclass
class Sample:
    """One user's command: what it was, and when the ack and the result reached the platform."""

    kind: str
    sent: float
    ack: float | None = None
    done: float | None = None

    @property
    def ack_s(self) -> float | None:
        return None if self.ack is None else self.ack - self.sent

    @property
    def e2e_s(self) -> float | None:
        return None if self.done is None else self.done - self.sent


@dataclass
class Burst:
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0  # first send to last result (or to the time limit)

    def acks(self, kind: str | None = None) -> list[float]:
        return [s.ack_s for s in self.samples if s.ack_s is not None and kind in (None, s.kind)]

    def e2e(self, kind: str | None = None) -> list[float]:
        return [s.e2e_s for s in self.samples if s.e2e_s is not None and kind in (None, s.kind)]

    @property
    def delivered(self) -> int:
        return sum(s.done is not None for s in self.samples)


def source_png() -> bytes:
    """The picture every simulated /edit starts from (made in code: no binary fixture)."""
    out = BytesIO()
    Image.new("RGB", (768, 768), (40, 120, 200)).save(out, format="PNG")
    return out.getvalue()


# -- Discord ------------------------------------------------------------------------------------------------


async def discord_burst(world: World, n: int, kinds: tuple[str, ...], *, results: bool, wait_s: float) -> Burst:
    """``n`` slash commands pushed over the gateway back to back, cycling through ``kinds``."""
    fake = world.discord
    png = source_png()
    uploads = [fake.upload("photo.png", png, "image/png") if kinds[i % len(kinds)] == "edit" else None
               for i in range(n)]
    pairs: list[tuple[Sample, Interaction]] = []
    start = time.monotonic()
    for i in range(n):
        kind = kinds[i % len(kinds)]
        sample = Sample(kind, time.monotonic())
        if kind == "speak":
            it = await fake.slash("speak", text=SPOKEN)
        elif kind == "imagine":
            it = await fake.slash("imagine", prompt=DRAWN)
        else:
            it = await fake.slash("edit", image=uploads[i], instruction=EDITED)
        pairs.append((sample, it))
    burst = Burst([s for s, _ in pairs])

    def acked() -> bool:
        return all(it.callbacks for _, it in pairs)

    def finished() -> bool:
        return all(_result_in(fake, it) or _refused(fake, it) for _, it in pairs)

    await until(acked, wait_s)
    for sample, it in pairs:
        sample.ack = it.callbacks[0][2] if it.callbacks else None
    if results:
        await until(finished, wait_s)
        done = _result_times(world)
        for sample, it in pairs:
            sample.done = done.get(it.token)
    burst.seconds = time.monotonic() - start
    return burst


def _result_in(fake: object, it: Interaction) -> bool:
    state = fake.state  # type: ignore[attr-defined]
    message = state.messages.get(it.original_id or "")
    return bool(message and message["attachments"])


def _refused(fake: object, it: Interaction) -> bool:
    return bool(it.followups) or (it.original_id or "") in fake.state.deleted  # type: ignore[attr-defined]


def _result_times(world: World) -> dict[str, float]:
    """Interaction token -> when the fake recorded the first call that delivered a file for it."""
    found: dict[str, float] = {}
    for call in world.discord.state.calls:
        if call.files and "/webhooks/" in call.path:
            token = call.path.split("/")[5]
            found.setdefault(token, call.at)
    return found


# -- Slack --------------------------------------------------------------------------------------------------


async def slack_burst(world: World, url: str, n: int, kinds: tuple[str, ...], *, results: bool,
                      wait_s: float) -> Burst:
    """``n`` signed slash commands posted at once, each from its own channel (so results are told apart)."""
    slack = world.slack
    kinds = tuple(k for k in kinds if k != "edit") or ("imagine",)  # a Slack edit is a mention, not a command
    samples = [Sample(kinds[i % len(kinds)], 0.0) for i in range(n)]
    channels = [f"CBENCH{i:06d}" for i in range(n)]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=wait_s)) as http:
        sender = SlackSender(http, url)

        async def one(i: int) -> None:
            sample = samples[i]
            text = SPOKEN if sample.kind == "speak" else DRAWN
            fields = {"team_id": TEAM, "channel_id": channels[i], "user_id": f"UBENCH{i}", "user_name": f"user{i}",
                      "command": f"/{sample.kind}", "text": text, "trigger_id": f"trig.{next(_trigger)}",
                      "response_url": slack.response_url(f"r{i}")}
            sample.sent = time.monotonic()
            status, _, _ = await sender.form(fields)
            if status == 200:
                sample.ack = time.monotonic()

        start = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    if results:
        def finished() -> bool:
            refused = {str(e.get("channel")) for e in slack.ephemerals}
            return all(c in slack.shared_at or c in refused for c in channels)

        await until(finished, wait_s)
        for sample, channel in zip(samples, channels, strict=True):
            sample.done = slack.shared_at.get(channel)
    burst = Burst(samples, time.monotonic() - start)
    return burst
