"""Each load figure as one function: start the bot(s) it needs, drive the users, return raw numbers.

Every scenario measures its baseline in the same run, against the same world:
  bursts      the bare bots (ack floor) and the plain google-genai client (provider floor)
  calls       the same bot with as many jobs as workers (nothing waits)
  memory      the same process idle, before the burst
  throughput  the plain client pulling the same mix through the same emulator
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from dataclasses import dataclass, field

from bench.load import KINDS, Burst, discord_burst, slack_burst
from bench.world import ROOT, BotProcess, World, until

PROVIDER_LATENCY_S = 1.0
FOREVER_S = 3600.0  # emulated latency that keeps jobs waiting for as long as a scenario lasts


@dataclass
class BurstRun:
    """One concurrency level: the bot's and the floors' numbers."""

    n: int
    discord: Burst
    slack: Burst
    bare_discord: Burst
    bare_slack: Burst
    provider: dict[str, list[float]] = field(default_factory=dict)  # kind -> plain-client seconds
    idle_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0


async def bare_provider(world: World, kinds: tuple[str, ...], n: int, concurrency: int | None = None
                        ) -> dict[str, tuple[list[float], float]]:
    """Per kind: seconds per call of ``n`` plain google-genai calls (``concurrency`` at a time), and wall time."""
    argv = [sys.executable, "-m", "bench.bare", "gemini", ",".join(kinds), str(n), str(concurrency or n)]
    proc = await asyncio.create_subprocess_exec(*argv, env=world.env(ROOT, 0), cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the plain Gemini client failed: {err.decode()[-500:]}")
    found = json.loads(out)
    return {kind: (list(found[kind]["calls"]), float(found[kind]["wall"])) for kind in kinds}


async def bursts(world: World, n: int, *, wait_s: float) -> BurstRun:
    """``n`` users at once on each platform, pools sized so only the emulated provider makes them wait."""
    world.latency_s = PROVIDER_LATENCY_S
    async with BotProcess.studiobot(world, speech_workers=str(n), image_workers=str(n),
                                    max_queue=str(max(200, 2 * n))) as bot:
        await discord_burst(world, len(KINDS), KINDS, results=True, wait_s=wait_s)  # warm: first use loads codecs
        world.forget()
        idle, _ = bot.rss_mb()
        on_discord = await discord_burst(world, n, KINDS, results=True, wait_s=wait_s)
        _, peak = bot.rss_mb()
        world.forget()
        on_slack = await slack_burst(world, bot.slack_url, n, KINDS, results=True, wait_s=wait_s)
        world.forget()
    world.missing(f"Discord results, {n} at once", on_discord.delivered, n, wait_s)
    world.missing(f"Slack results, {n} at once", on_slack.delivered, n, wait_s)
    async with BotProcess.bare(world, "discord"):
        bare_discord = await discord_burst(world, n, KINDS, results=False, wait_s=wait_s)
    world.forget()
    async with BotProcess.bare(world, "slack") as bare:
        bare_slack = await slack_burst(world, bare.slack_url, n, KINDS, results=False, wait_s=wait_s)
    world.forget()
    provider = {kind: calls for kind, (calls, _) in (await bare_provider(world, KINDS, n)).items()}
    return BurstRun(n, on_discord, on_slack, bare_discord, bare_slack, provider, idle, peak)


@dataclass
class CallsRun:
    jobs: int
    calls: int
    delivered: int
    baseline_jobs: int
    baseline_calls: int
    baseline_delivered: int
    seconds: float

    @property
    def per_job(self) -> float:
        return self.calls / max(1, self.delivered)

    @property
    def baseline_per_job(self) -> float:
        return self.baseline_calls / max(1, self.baseline_delivered)


@dataclass
class ThroughputRun:
    jobs: int
    delivered: int
    seconds: float
    provider_seconds: float

    @property
    def jobs_s(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def provider_jobs_s(self) -> float:
        return self.jobs / self.provider_seconds if self.provider_seconds else 0.0


async def default_pools(world: World, calls_jobs: int, flow_jobs: int, *, wait_s: float
                        ) -> tuple[CallsRun, ThroughputRun]:
    """One bot with the default pools (2 speech, 2 image workers) at zero emulated latency:

    REST calls to Discord per delivered /imagine with ``calls_jobs`` queued, and with none queued;
    then jobs per second through Slack, against the plain client pulling the same mix 4 at a time.
    """
    world.latency_s = 0.0
    async with BotProcess.studiobot(world, max_queue=str(max(calls_jobs, flow_jobs) + 10)) as bot:
        world.forget()
        few = await discord_burst(world, 2, ("imagine",), results=True, wait_s=wait_s)
        baseline = len(world.discord.state.calls)
        world.forget()
        many = await discord_burst(world, calls_jobs, ("imagine",), results=True, wait_s=wait_s)
        calls = CallsRun(calls_jobs, len(world.discord.state.calls), many.delivered, 2, baseline, few.delivered,
                         many.seconds)
        world.forget()
        burst = await slack_burst(world, bot.slack_url, flow_jobs, ("speak", "imagine"), results=True, wait_s=wait_s)
        ends = [s.done for s in burst.samples if s.done is not None]
        first = min(s.sent for s in burst.samples)
        seconds = (max(ends) - first) if ends else burst.seconds
        world.forget()
    world.missing(f"Discord results, {calls_jobs} behind 2 workers", many.delivered, calls_jobs, wait_s)
    world.missing(f"Slack results, {flow_jobs} for throughput", len(ends), flow_jobs, wait_s)
    _, wall = (await bare_provider(world, ("mix",), flow_jobs, 4))["mix"]
    return calls, ThroughputRun(flow_jobs, len(ends), seconds, wall)


@dataclass
class MemoryRun:
    queued: int
    accepted: int
    idle_mb: float
    rss_mb: float
    peak_mb: float

    @property
    def per_queued_kb(self) -> float:
        return (self.rss_mb - self.idle_mb) * 1024 / max(1, self.accepted)


def _journal_rows(bot: BotProcess) -> int:
    try:
        with sqlite3.connect(f"file:{bot.data_dir / 'journal.sqlite3'}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
    except sqlite3.Error:
        return 0


async def memory(world: World, queued: int, *, wait_s: float) -> MemoryRun:
    """Resident memory of the bot with ``queued`` Slack /imagine jobs accepted and waiting (two run, forever)."""
    world.latency_s = FOREVER_S
    async with BotProcess.studiobot(world, max_queue=str(queued + 10)) as bot:
        await asyncio.sleep(1.0)  # let start-up garbage settle before reading the idle figure
        idle, _ = bot.rss_mb()
        world.forget()
        await slack_burst(world, bot.slack_url, queued, ("imagine",), results=False, wait_s=wait_s)
        await until(lambda: _journal_rows(bot) >= queued, wait_s, poll_s=0.25)
        accepted = _journal_rows(bot)
        rss, peak = bot.rss_mb()
    world.latency_s = 0.0
    world.forget()
    world.missing(f"Slack jobs accepted into the queue, {queued} sent", accepted, queued, wait_s)
    return MemoryRun(queued, accepted, idle, rss, peak)
