"""``studiobot run`` with no tokens and no key: a working playground, said loudly to be offline."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.processes import STUDIOBOT, clean_env, free_port, read_until


async def test_run_without_credentials_serves_the_playground(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(STUDIOBOT_DATA_DIR=str(tmp_path / "data"), STUDIOBOT_PLAYGROUND_PORT=str(port))
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", cwd=tmp_path, env=env,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        seen = await read_until(proc.stderr, f"http://127.0.0.1:{port}/")
        assert "Discord: skipped (set DISCORD_TOKEN)" in seen
        assert "OFFLINE PREVIEW" in seen
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as page:
                assert page.status == 200
                assert "Studiobot" in await page.text()
            async with http.post(f"http://127.0.0.1:{port}/api/messages", json={"text": "/speak hello"}) as sent:
                assert sent.status < 300, await sent.text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0  # exits in a second; 60 for a loaded box
    assert (tmp_path / "data" / "journal.sqlite3").exists()
