"""Running ``studiobot`` as a user does: a real process, with an environment that reaches no real service."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from dataclasses import dataclass, field

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


@dataclass
class Proc:
    """One ``studiobot`` process; everything it logs is kept (for the secrets scan) while it runs."""

    proc: asyncio.subprocess.Process
    log: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def _drain(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.log.append(line.decode(errors="replace"))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 40) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self.reader is not None:
            await self.reader
        return code


async def launch(*args: str, env: dict[str, str], ready: list[str], timeout: float = 60) -> Proc:
    """Start ``studiobot ARGS`` and return once its stderr has said every ``ready`` needle."""
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, *args, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    started = Proc(proc)
    started.log.append(await read_until(proc.stderr, *ready, timeout=timeout))
    started.reader = asyncio.create_task(started._drain())
    return started
