"""A ``studiobot speak`` killed mid-job is finished into its file by the next ``studiobot run``."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import sys
from pathlib import Path

from core.emulator.app import Emulator
from core.emulator.faults import Fault
from core.media import audio

_EXE = shutil.which("studiobot")
STUDIOBOT = [_EXE] if _EXE else [sys.executable, "-m", "bots"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_killed_cli_job_is_finished_by_run(tmp_path: Path, emulator: Emulator) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIOBOT_", "SLACK_", "DISCORD_"))}
    env |= {"GEMINI_API_KEY": "test-key", "STUDIOBOT_GEMINI_BASE_URL": emulator.base_url,
            "STUDIOBOT_DATA_DIR": str(tmp_path / "data"), "STUDIOBOT_PLAYGROUND_PORT": str(free_port())}
    env.pop("GOOGLE_API_KEY", None)
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
