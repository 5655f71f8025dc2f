"""A process killed mid-job: the next start resumes it, ends it terminal, and delivers it once."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from emulator.app import Emulator
from emulator.faults import Fault
from tests.waiting import until

ROOT = Path(__file__).resolve().parents[2]


async def worker(mode: str, data: Path, emulator: Emulator, out: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.crash_worker", mode, "--data", str(data), "--base-url",
        emulator.base_url, "--out", str(out), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )


def journal_rows(data: Path) -> list[tuple[str, str, str, int]]:
    with sqlite3.connect(data / "journal.sqlite3") as db:
        return db.execute("SELECT id, state, delivery, attempts FROM jobs").fetchall()


async def test_a_job_killed_mid_run_is_resumed_and_delivered_once(tmp_path: Path, emulator: Emulator) -> None:
    out = tmp_path / "delivered.txt"
    emulator.script(Fault.latency(60))  # the first attempt hangs until the process dies

    first = await worker("submit", tmp_path, emulator, out)
    assert first.stdout is not None
    job_id = (await asyncio.wait_for(first.stdout.readline(), 30)).decode().strip()
    async def mid_call() -> bool:
        return journal_rows(tmp_path) == [(job_id, "running", "pending", 1)] and bool(emulator.calls)

    await until(mid_call, "the job never reached the Gemini call", interval=0.02)
    os.kill(first.pid, signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    assert journal_rows(tmp_path) == [(job_id, "running", "pending", 1)]
    assert not out.exists()

    second = await worker("resume", tmp_path, emulator, out)
    assert await asyncio.wait_for(second.wait(), 60) == 0
    assert journal_rows(tmp_path) == [(job_id, "done", "delivered", 2)]
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{job_id} image ")

    third = await worker("resume", tmp_path, emulator, out)  # a further restart posts nothing again
    assert await asyncio.wait_for(third.wait(), 60) == 0
    assert out.read_text().splitlines() == lines
    assert len(emulator.calls) == 2
