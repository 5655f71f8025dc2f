"""``studiobot run`` with no tokens and no key: a working playground, said loudly to be offline."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_run_without_credentials_serves_the_playground(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"GEMINI_API_KEY", "GOOGLE_API_KEY", "DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN",
                        "SLACK_SIGNING_SECRET"}}
    env |= {"STUDIOBOT_DATA_DIR": str(tmp_path / "data"), "STUDIOBOT_PLAYGROUND_PORT": str(port),
            "COLUMNS": "200"}
    exe = shutil.which("studiobot")
    cmd = [exe, "run"] if exe else [sys.executable, "-m", "bots", "run"]
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    seen = ""
    try:
        while f"http://127.0.0.1:{port}/" not in seen:
            line = await asyncio.wait_for(proc.stderr.readline(), 30)
            assert line, f"studiobot run exited early:\n{seen}"
            seen += line.decode()
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
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    assert (tmp_path / "data" / "journal.sqlite3").exists()
