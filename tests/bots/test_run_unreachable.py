"""A platform that cannot be reached, or refuses the token: one plain line each time, never a flood."""

from __future__ import annotations

import asyncio
import base64
import logging
import signal
import sys
from pathlib import Path

import pytest
from aiohttp import web

from adapters.preflight import TokenRejected, discord_probe, slack_probe, until_reachable
from tests.processes import STUDIOBOT, clean_env, free_port, read_until

STOP_S = 60  # the wait ends when the process exits (well under a second); the bound is for a loaded box
DISCORD_TOKEN = base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".GhIjKl.secretpart0123456789"


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_an_unreachable_platform_is_one_line_per_attempt_then_a_clean_stop(tmp_path: Path,
                                                                                 platform: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = ({"DISCORD_TOKEN": DISCORD_TOKEN, "STUDIOBOT_DISCORD_API_BASE": f"{dead}/api/v10"}
                if platform == "discord" else
                {"SLACK_BOT_TOKEN": "xoxb-1-secret", "SLACK_APP_TOKEN": "xapp-1-secret",
                 "STUDIOBOT_SLACK_API_URL": f"{dead}/api/"})
    env = clean_env(STUDIOBOT_DATA_DIR=str(tmp_path / "data"), **settings)
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", cwd=tmp_path, env=env,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        seen = await read_until(proc.stderr, "Retrying in 1 s", "Retrying in 2 s", timeout=30)
    finally:
        proc.send_signal(signal.SIGINT)
        rest = (await asyncio.wait_for(proc.communicate(), STOP_S))[1].decode()
    everything = seen + rest
    attempts = [ln for ln in everything.splitlines() if "API unreachable" in ln]
    assert len(attempts) >= 2
    assert all("check the network" in ln for ln in attempts)
    assert "Traceback" not in everything
    assert "Unclosed client session" not in everything
    assert "secret" not in everything
    assert "stopped" in rest
    assert proc.returncode == 0


async def test_backoff_doubles_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    calls = 0
    real_sleep = asyncio.sleep

    async def probe() -> None:
        nonlocal calls
        calls += 1
        if calls < 7:
            raise ConnectionRefusedError("refused")

    async def record(delay: float) -> None:
        slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", record)
    await until_reachable("Test", probe, hint="check", start_s=1, cap_s=8)
    assert slept == [1, 2, 4, 8, 8, 8]


async def _serve(handler: web.RequestHandler) -> tuple[web.AppRunner, str]:  # type: ignore[type-arg]
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_a_rejected_token_says_what_to_do_and_is_not_retried() -> None:
    async def refuse(request: web.Request) -> web.Response:
        if request.path.startswith("/api/v10"):
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return web.json_response({"ok": False, "error": "invalid_auth"})

    runner, base = await _serve(refuse)
    try:
        with pytest.raises(TokenRejected, match="Reset Token"):
            await until_reachable("Discord", lambda: discord_probe(f"{base}/api/v10", "x.y.z"), hint="h")
        with pytest.raises(TokenRejected, match=r"SLACK_BOT_TOKEN \(invalid_auth\)"):
            await until_reachable("Slack", lambda: slack_probe(f"{base}/api/", "xoxb-1", "xapp-1"), hint="h")
    finally:
        await runner.cleanup()


def test_a_lost_socket_mode_connection_is_one_warning_with_a_hint() -> None:
    from adapters.slack.app import SdkNotices

    try:
        raise ConnectionRefusedError("Cannot connect to host slack.com:443 ssl:default [Connect call failed]")
    except ConnectionRefusedError:
        record = logging.LogRecord("adapters.slack.app", logging.ERROR, __file__, 1,
                                   "Failed to connect (error: %s); Retrying...", (sys.exc_info()[1],),
                                   sys.exc_info())
    assert SdkNotices().filter(record)
    assert record.levelname == "WARNING"
    assert record.getMessage() == ("Slack: Socket Mode connection failed (Cannot connect to host slack.com:443 "
                                   "ssl:default); check the network (or STUDIOBOT_SLACK_API_URL). Retrying in 10 s.")


async def test_verbose_brings_back_the_library_logs(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    env = clean_env(STUDIOBOT_DATA_DIR=str(tmp_path / "data"), DISCORD_TOKEN=DISCORD_TOKEN,
                    STUDIOBOT_DISCORD_API_BASE=f"{dead}/api/v10")
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", "-v", cwd=tmp_path, env=env,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        seen = await read_until(proc.stderr, "API unreachable", timeout=30)
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.communicate(), STOP_S)
    assert "DEBUG" in seen  # quiet runs show warnings only
