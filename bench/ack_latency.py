"""How fast Discord hears "thinking…" when the bot is busy, against the same bot when it is idle.

Runs the real discord.py client against the fake Discord from the test suite (127.0.0.1 only),
with the offline studio. Baseline: one /speak at a time on an idle bot. Load: a burst of /speak and
/imagine interactions at once, so the pools are full and jobs queue. For each interaction it
measures the time from the fake dispatching INTERACTION_CREATE to the bot's first callback (the
defer), which Discord requires within 3 s. Results are printed as ratios against the baseline.

    python bench/ack_latency.py [--burst 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fakes live in tests/

from adapters.discord import DiscordAdapter
from core.settings import Settings
from core.studio import open_studio
from tests.fakes.discord import FakeDiscord, Interaction

DEADLINE_S = 3.0


async def ack_time(fake: FakeDiscord, it: Interaction, sent: float) -> float:
    await fake.state.wait_for(lambda: it.callbacks)
    return it.callbacks[0][2] - sent


async def one(fake: FakeDiscord, kind: str, n: int) -> tuple[float, Interaction]:
    sent = time.monotonic()
    if kind == "speak":
        it = await fake.slash("speak", text=f"Benchmark line number {n}, spoken clearly.")
    else:
        it = await fake.slash("imagine", prompt=f"benchmark card {n}")
    return await ack_time(fake, it, sent), it


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def main(burst: int) -> None:
    fake = FakeDiscord()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), gemini_api_key=None,  # type: ignore[call-arg]
                            user_requests_per_minute=0, discord_token="test-token",  # noqa: S106
                            discord_api_base=fake.api_base,
                            discord_gateway_url=fake.gateway_url, media_hosts=("127.0.0.1",))
        adapter = DiscordAdapter(settings, guild_ready_timeout=0.05)
        async with open_studio(settings, hooks=(adapter.hook,)) as studio:
            serving = asyncio.create_task(adapter.serve(studio))
            await adapter.client.services.ready.wait()
            idle = []
            for n in range(8):
                seconds, it = await one(fake, "speak", n)
                idle.append(seconds)
                await fake.result(it)
            loaded_pairs = await asyncio.gather(
                *(one(fake, "speak" if n % 2 else "imagine", n) for n in range(burst)))
            loaded = [s for s, _ in loaded_pairs]
            started = time.monotonic()
            for _, it in loaded_pairs:
                await fake.result(it)
            drained = time.monotonic() - started
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
    await fake.stop()
    print(f"Discord defer latency: idle bot (8 sequential) vs a burst of {burst} at once (offline provider)")
    print(f"{'metric':24} {'idle':>9} {'burst':>9} {'burst/idle':>11}")
    for name, q in (("p50 (ms)", 50), ("p99 (ms)", 99)):
        a, b = pct(idle, q) * 1e3, pct(loaded, q) * 1e3
        print(f"{name:24} {a:9.1f} {b:9.1f} {b / a:10.1f}x")
    a, b = max(idle) * 1e3, max(loaded) * 1e3
    print(f"{'max (ms)':24} {a:9.1f} {b:9.1f} {b / a:10.1f}x")
    print(f"slowest defer used {max(loaded) / DEADLINE_S:.1%} of Discord's 3 s deadline; "
          f"the burst's results then took {drained:.1f} s to finish")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=30)
    asyncio.run(main(parser.parse_args().burst))
