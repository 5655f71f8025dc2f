"""``studiobot bench``: run every scenario at a size (quick or full) and collect the figures.

The world (fakes + emulator) lives in this process; each scenario starts the bot processes it needs.
Scenarios run one after another, never overlapping, so no figure pays for another's load.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench import local, scenarios, workers
from bench.load import KINDS
from bench.world import World

log = logging.getLogger("studiobot.bench")


@dataclass(frozen=True)
class Size:
    levels: tuple[int, ...]  # concurrent users for the ack and end-to-end bursts
    overhead_at: int  # the level whose end-to-end times give the overhead ratios
    calls_jobs: int
    queued: int
    lag_jobs: int  # audio jobs and image jobs each
    clip_s: float
    encode_rounds: int
    throughput_jobs: int
    first_audio_s: float  # length of the streamed clip
    wait_s: float
    workers_jobs: int  # commands per step of the 1 / 2 / 4 worker processes (and their baseline)
    workers_latency_s: float  # emulated latency for them: the provider's wait is what workers spread


FULL = Size(levels=(50, 200, 500), overhead_at=200, calls_jobs=300, queued=1000, lag_jobs=50, clip_s=60.0,
            encode_rounds=3, throughput_jobs=200, first_audio_s=30.0, wait_s=300.0, workers_jobs=200,
            workers_latency_s=1.0)
QUICK = Size(levels=(20,), overhead_at=20, calls_jobs=20, queued=200, lag_jobs=10, clip_s=60.0,
             encode_rounds=1, throughput_jobs=20, first_audio_s=10.0, wait_s=60.0, workers_jobs=24,
             workers_latency_s=0.25)


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method); NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def stats(values: list[float], scale: float = 1.0) -> dict[str, float]:
    """p50, p99 and max, times ``scale`` (1e3: seconds to milliseconds), and how many values."""
    return {"p50": pct(values, 50) * scale, "p99": pct(values, 99) * scale,
            "max": (max(values) * scale) if values else float("nan"), "n": len(values)}


def ms(values: list[float]) -> dict[str, float]:
    return stats(values, 1e3)


def _bursts(runs: list[scenarios.BurstRun]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for run in runs:
        out[str(run.n)] = {
            "discord_ack_ms": ms(run.discord.acks()), "bare_discord_ack_ms": ms(run.bare_discord.acks()),
            "slack_ack_ms": ms(run.slack.acks()), "bare_slack_ack_ms": ms(run.bare_slack.acks()),
            "discord_e2e_s": {k: stats(run.discord.e2e(k)) for k in KINDS},
            "slack_e2e_s": {k: stats(run.slack.e2e(k)) for k in ("speak", "imagine")},
            "provider_s": {k: stats(v) for k, v in run.provider.items()},
            "delivered": {"discord": run.discord.delivered, "slack": run.slack.delivered},
            "idle_rss_mb": run.idle_rss_mb, "peak_rss_mb": run.peak_rss_mb,
        }
    return out


async def _timed(name: str, step: Callable[[], Awaitable[Any]], progress: Callable[[str], None]) -> Any:
    progress(f"{name}…")
    start = time.monotonic()
    result = await step()
    progress(f"{name}: {time.monotonic() - start:.1f} s")
    return result


async def _first_audio(size: Size, problems: list[str]) -> dict[str, float]:
    """Streamed speech's time to first audio, once ``bench/first_audio.py`` exists; empty until then."""
    try:
        module = importlib.import_module("bench.first_audio")
    except ModuleNotFoundError:
        return {}
    try:
        figures: dict[str, float] = await module.measure_first_audio(speech_s=size.first_audio_s, first_chunk_s=1.0)
    except Exception as exc:  # another helper's scenario: its failure is reported, not fatal to the rest
        problems.append(f"time to first audio failed: {type(exc).__name__}: {exc}"[:300])
        return {}
    return figures


async def measure(size: Size, progress: Callable[[str], None]) -> dict[str, Any]:
    """Every figure, with its baseline, as one JSON-able dict (``report`` turns it into the table)."""
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    world = World()
    await world.start()
    try:
        runs = []
        for n in size.levels:
            def burst(n: int = n) -> Awaitable[scenarios.BurstRun]:
                return scenarios.bursts(world, n, wait_s=size.wait_s)
            runs.append(await _timed(f"{n} users at once", burst, progress))
        calls, flow = await _timed(
            f"{size.calls_jobs} jobs behind 2 workers, then throughput",
            lambda: scenarios.default_pools(world, size.calls_jobs, size.throughput_jobs, wait_s=size.wait_s),
            progress)
        scaled = await _timed(
            f"{size.workers_jobs} jobs with 1, 2 and 4 worker processes on PostgreSQL, and in one process",
            lambda: workers.throughput_by_workers(world, size.workers_jobs, size.workers_latency_s,
                                                   wait_s=size.wait_s), progress)
        mem = await _timed(f"{size.queued} jobs queued",
                           lambda: scenarios.memory(world, size.queued, wait_s=size.wait_s), progress)
    finally:
        await world.stop()
    idle, busy, lag_s = await _timed("loop lag", lambda: local.loop_lag(size.lag_jobs, size.lag_jobs), progress)
    ours, plain = await _timed("audio encode", lambda: asyncio.to_thread(local.encode_speed, size.clip_s,
                                                                          size.encode_rounds), progress)
    first_audio = await _timed("time to first audio", lambda: _first_audio(size, world.problems), progress)
    top = next(r for r in runs if r.n == max(size.levels))
    at = next(r for r in runs if r.n == size.overhead_at)
    worst = max(("discord", "slack"),
                key=lambda p: pct(getattr(top, p).acks(), 99) / pct(getattr(top, f"bare_{p}").acks(), 99))
    figures: dict[str, Any] = {
        "quick": size is QUICK,
        "ack_concurrency": top.n,
        "ack_platform": worst,
        "ack_p99_ms": pct(getattr(top, worst).acks(), 99) * 1e3,
        "baseline_ack_p99_ms": pct(getattr(top, f"bare_{worst}").acks(), 99) * 1e3,
        "overhead_concurrency": at.n,
        "provider_latency_s": scenarios.PROVIDER_LATENCY_S,
        **{f"overhead_ratio_{k}": pct(at.discord.e2e(k), 50) / scenarios.PROVIDER_LATENCY_S for k in KINDS},
        **{f"baseline_overhead_ratio_{k}": pct(at.provider[k], 50) / scenarios.PROVIDER_LATENCY_S for k in KINDS},
        "rest_calls_per_job": calls.per_job,
        "baseline_rest_calls_per_job": calls.baseline_per_job,
        "rest_calls_jobs": calls.jobs, "rest_calls_delivered": calls.delivered, "rest_calls_seconds": calls.seconds,
        "loop_lag_max_ms": max(busy) * 1e3, "loop_lag_p99_ms": pct(busy, 99) * 1e3,
        "baseline_loop_lag_max_ms": max(idle) * 1e3, "baseline_loop_lag_p99_ms": pct(idle, 99) * 1e3,
        "loop_lag_jobs": {"audio": size.lag_jobs, "image": size.lag_jobs, "seconds": lag_s},
        "peak_rss_mb_1000_queued": mem.peak_mb, "rss_mb_queued": mem.rss_mb, "baseline_rss_mb_idle": mem.idle_mb,
        "queued_jobs": mem.queued, "queued_accepted": mem.accepted, "rss_kb_per_queued_job": mem.per_queued_kb,
        "rss_kb_per_inflight_job": (top.peak_rss_mb - top.idle_rss_mb) * 1024 / top.n,
        "encode_realtime_factor": ours, "baseline_encode_realtime_factor": plain, "encode_clip_s": size.clip_s,
        "throughput_jobs_s": flow.jobs_s, "baseline_throughput_jobs_s": flow.provider_jobs_s,
        "throughput_jobs": flow.jobs, "throughput_delivered": flow.delivered,
        **workers.figures(scaled),
        "time_to_first_audio_s": first_audio.get("first_audio_s"),
        "first_audio": first_audio,  # empty until speech streams (bench/first_audio.py)
        "bursts": _bursts(runs),
        "problems": world.problems,
        "seconds": time.monotonic() - started,
        "load_average": [load_before, os.getloadavg()[0]],  # the box's 1-minute load, at start and end
    }
    return figures
