"""How responsive the event loop stays while the studio generates and encodes speech.

Baseline: the same espeak synthesis + Opus encode run directly on the loop (what a naive bot does).
Studio:   the same work submitted as jobs (journaled, pooled, encoded off the loop).
Both runs measure, in the same process, how late a 5 ms ticker fires and how long ``submit`` (the
part an adapter awaits before it can ack) takes. Results are printed as ratios against the baseline.

    python bench/loop_lag.py [--jobs 12]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from core.media import audio
from core.providers import espeak
from core.requests import Origin, Requester, SpeakRequest
from core.settings import Settings
from core.studio import open_studio

TEXT = "The quick brown fox jumps over the lazy dog, and then it does it again, slowly and carefully."
TICK_S = 0.005


async def measure(work: Callable[[], Awaitable[list[float]]]) -> tuple[list[float], list[float], float]:
    """Run ``work`` while a ticker records how late each tick fires; returns lags, submit times, seconds."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            await asyncio.sleep(TICK_S)
            lags.append(time.perf_counter() - start - TICK_S)

    tick = asyncio.create_task(ticker())
    start = time.perf_counter()
    submits = await work()
    elapsed = time.perf_counter() - start
    stop.set()
    await tick
    return lags, submits, elapsed


async def baseline(jobs: int) -> list[float]:
    submits = []
    for _ in range(jobs):
        t = time.perf_counter()
        speech = espeak.synthesize(TEXT, "Kore")  # blocking, on the loop
        audio.encode(speech, "ogg")
        submits.append(time.perf_counter() - t)
        await asyncio.sleep(0)
    return submits


async def studio_run(jobs: int, data_dir: Path) -> list[float]:
    settings = Settings(_env_file=None, data_dir=data_dir, gemini_api_key=None,  # type: ignore[call-arg]
                        user_requests_per_minute=0)
    submits = []
    async with open_studio(settings) as studio:
        ids = []
        for _ in range(jobs):
            t = time.perf_counter()
            job = await studio.submit(SpeakRequest(TEXT), Requester("bench", "u"), Origin("bench"))
            submits.append(time.perf_counter() - t)
            ids.append(job.id)
        for job_id in ids:
            await studio.outcome(job_id)
    return submits


def p(values: list[float], q: float) -> float:
    if len(values) < 2:
        return (values or [0.0])[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def main(jobs: int) -> None:
    espeak.synthesize("warm up", "Kore")
    with tempfile.TemporaryDirectory() as tmp:
        base_lags, base_submits, base_s = await measure(lambda: baseline(jobs))
        lags, submits, studio_s = await measure(lambda: studio_run(jobs, Path(tmp)))
    rows = [
        ("loop lag p99 (ms)", p(base_lags, 99) * 1e3, p(lags, 99) * 1e3),
        ("loop lag max (ms)", max(base_lags) * 1e3, max(lags) * 1e3),
        ("time to accept p99 (ms)", p(base_submits, 99) * 1e3, p(submits, 99) * 1e3),
        ("wall time (s)", base_s, studio_s),
    ]
    print(f"{jobs} speech jobs; baseline = synthesis+encode on the event loop")
    print(f"{'metric':28} {'baseline':>10} {'studio':>10} {'baseline/studio':>16}")
    for name, b, s in rows:
        print(f"{name:28} {b:10.2f} {s:10.2f} {b / s if s else float('inf'):15.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=12)
    asyncio.run(main(parser.parse_args().jobs))
