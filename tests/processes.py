"""Running ``studiobot`` as a user does: a real process, with an environment that reaches no real service."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys

_SCRIPT = shutil.which("studiobot")
STUDIOBOT = [_SCRIPT] if _SCRIPT else [sys.executable, "-c", "from bots.cli import main; main()"]
_PRIVATE = ("STUDIOBOT_", "SLACK_", "DISCORD_", "GEMINI_", "GOOGLE_")


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any studiobot, platform or Gemini setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE) and k != "FORCE_COLOR"}
    env["NO_PROXY"] = env["no_proxy"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1"]))
    env["COLUMNS"] = "200"
    env["STUDIOBOT_METRICS_PORT"] = "0"  # parallel runs would fight over 9108; tests that want it pass a port
    return env | values


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def read_until(stream: asyncio.StreamReader | None, *needles: str, timeout: float = 60) -> str:
    """Everything the process wrote until every needle has appeared; fails if it exits first."""
    assert stream is not None
    seen = ""
    async with asyncio.timeout(timeout):
        while not all(n in seen for n in needles):
            line = await stream.readline()
            assert line, f"the process exited early:\n{seen}"
            seen += line.decode()
    return seen
