"""SIGTERM: intake stops, the running job finishes and posts within the grace period, the rest is released."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from emulator.app import Emulator
from emulator.faults import Fault
from tests.bots.stack import Stack


async def test_sigterm_lets_the_running_job_post_and_releases_the_queued_one(tmp_path: Path,
                                                                             emulator: Emulator) -> None:
    async with Stack(tmp_path, emulator) as stack:
        proc = await stack.start(slack=False, STUDIOBOT_IMAGE_WORKERS="1", STUDIOBOT_SHUTDOWN_GRACE_S="20")
        emulator.script(Fault.latency(1.5))
        running = await stack.discord.slash("imagine", prompt="a lighthouse")
        waiting = await stack.discord.slash("imagine", prompt="a harbour")
        await stack.until(lambda: len(stack.rows()) == 2 and len(emulator.calls) == 1)
        sent = time.monotonic()
        proc.proc.send_signal(15)
        assert await asyncio.wait_for(proc.proc.wait(), 25) == 0
        took = time.monotonic() - sent
        shown = await stack.discord.result(running, timeout=1)  # posted before the process ended
        assert "a lighthouse" in shown["content"]
        by_key = {r[4]: r for r in stack.rows("SELECT id, state, delivery, owner, dedupe_key, attempts FROM jobs")}
        first, second = by_key[f"discord:i:{running.id}"], by_key[f"discord:i:{waiting.id}"]
        assert first[1:3] == ("done", "delivered")
        assert second[1:4] == ("queued", "pending", None) and second[5] == 0  # released, not a crash
        print(f"\nSIGTERM to exit: {took:.2f} s with one job running")

        again = await stack.start(slack=False)
        rows = await stack.all_settled(2)
        stack.assert_exactly_once(rows)  # the released job ran once, and its "Waiting…" message is gone
        assert await again.stop() == 0
        assert stack.scan() == []
