"""Many jobs: two processes sharing one data directory, and a load of 300 commands with faults on both sides."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from pathlib import Path

from emulator.app import Emulator
from emulator.faults import Fault
from tests.bots.stack import Stack
from tests.fakes.discord.state import Interaction, snowflake, user


async def imagine_from_many(stack: Stack, count: int) -> list[Interaction]:
    people = [user(snowflake(), f"member{n}") for n in range(count)]
    return [await stack.discord.slash("imagine", prompt=f"a lighthouse, take {n}", user=who)
            for n, who in enumerate(people)]


async def test_two_processes_on_one_data_dir_run_and_post_each_job_once(tmp_path: Path, emulator: Emulator) -> None:
    async with Stack(tmp_path, emulator) as stack:
        first = await stack.start(slack=False, STUDIOBOT_IMAGE_WORKERS="1")
        emulator.script(Fault.latency(60))  # one job holds the only worker: the other 49 wait
        await imagine_from_many(stack, 50)
        await stack.until(lambda: len(stack.rows()) == 50 and len(emulator.calls) == 1)
        first.kill()
        await first.proc.wait()
        emulator.reset()

        second, third = await asyncio.gather(stack.start(slack=False), stack.start(slack=False))
        rows = await stack.all_settled(50)
        stack.assert_exactly_once(rows)
        prompts = Counter(str(c.body) for c in emulator.calls)
        assert len(emulator.calls) == 50 and max(prompts.values()) == 1  # each job ran once after the crash
        owners = Counter(r[0] for r in stack.rows("SELECT owner FROM jobs"))
        print(f"\njobs per process after the crash: {sorted(owners.values())}")
        assert all(p.log for p in (second, third))
        assert await second.stop() == 0 and await third.stop() == 0
        assert stack.scan() == []


def calls_per_job(stack: Stack, interactions: list[Interaction]) -> list[int]:
    """REST calls on each command's interaction (callback, @original edits, followups)."""
    counts = []
    for it in interactions:
        counts.append(sum(1 for c in stack.discord.state.calls if it.token in c.path or f"/{it.id}/" in c.path))
    return counts


async def test_300_commands_with_transient_faults_all_end_once_within_5_calls_each(tmp_path: Path,
                                                                                   emulator: Emulator) -> None:
    n = 300
    # ~5% of Gemini calls fail once with a 503 (the provider retries), ~5% of result posts fail once
    emulator.script(*[Fault.http(503) if i % 20 == 7 else Fault.latency(0) for i in range(n + 40)])
    async with Stack(tmp_path, emulator) as stack:
        proc = await stack.start(slack=False, STUDIOBOT_PROGRESS_INTERVAL_S="2", STUDIOBOT_MAX_QUEUE="400")
        errors = stack.discord.faults.arm("status", "PATCH", r"/messages/@original$", content="multipart",
                                          status=500, times=8)
        drops = stack.discord.faults.arm("drop_after", "PATCH", r"/messages/@original$", content="multipart",
                                         times=7)
        started = time.monotonic()
        interactions = await imagine_from_many(stack, n)
        rows = await stack.all_settled(n, timeout=240)
        drained = time.monotonic() - started
        stack.assert_exactly_once(rows)
        counts = calls_per_job(stack, interactions)
        total = len(stack.discord.state.calls)
        print(f"\n{n} commands drained in {drained:.1f} s; REST calls per job: max {max(counts)}, "
              f"mean {statistics.mean(counts):.2f}; all REST calls / job: {total / n:.2f}; "
              f"Gemini calls {len(emulator.calls)}")
        # 4 calls with nothing going wrong (the defer, two progress edits, the result) and one more per fault
        # the job met: at most 5 for a job hit once; a retry may meet a second fault on a loaded box.
        faulted = [sum(it.token in path for path in errors.hit_paths + drops.hit_paths) for it in interactions]
        assert all(calls <= 4 + hit for calls, hit in zip(counts, faulted, strict=True)), (counts, faulted)
        assert max(c for c, hit in zip(counts, faulted, strict=True) if hit <= 1) <= 5
        assert (errors.hits, drops.hits) == (8, 7) and len(emulator.calls) > n  # the faults did happen
        assert await proc.stop() == 0
