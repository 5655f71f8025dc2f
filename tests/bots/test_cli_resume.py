"""A ``studiobot speak`` killed mid-job is finished into its file by the next ``studiobot run``."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from core.media import audio
from emulator.app import Emulator
from emulator.faults import Fault
from tests.processes import STUDIOBOT, clean_env, free_port


async def test_a_killed_cli_job_is_finished_by_run(tmp_path: Path, emulator: Emulator) -> None:
    env = clean_env(GEMINI_API_KEY="test-key", STUDIOBOT_GEMINI_BASE_URL=emulator.base_url,
                    STUDIOBOT_DATA_DIR=str(tmp_path / "data"), STUDIOBOT_PLAYGROUND_PORT=str(free_port()))
    out = tmp_path / "hello.ogg"
    emulator.script(Fault.latency(60))

    speak = await asyncio.create_subprocess_exec(*STUDIOBOT, "speak", "hello there", "-o", str(out), env=env,
                                                 cwd=tmp_path, stderr=asyncio.subprocess.DEVNULL)
    async with asyncio.timeout(30):
        while not emulator.calls:
            await asyncio.sleep(0.02)
    speak.send_signal(signal.SIGKILL)
    await speak.wait()
    assert not out.exists()

    run = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", env=env, cwd=tmp_path,
                                               stderr=asyncio.subprocess.DEVNULL)
    try:
        async with asyncio.timeout(30):
            while not out.exists():
                await asyncio.sleep(0.05)
    finally:
        run.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(run.wait(), 30) == 0
    assert 0.3 < audio.decode(out.read_bytes()).duration_s < 4
    with sqlite3.connect(tmp_path / "data" / "journal.sqlite3") as db:
        assert db.execute("SELECT platform, state, delivery, attempts FROM jobs").fetchall() == [
            ("cli", "done", "delivered", 2)]
