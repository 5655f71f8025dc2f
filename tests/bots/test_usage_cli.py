"""``studiobot usage`` prints what the journal recorded: the same numbers /usage shows."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.requests import ImagineRequest, Origin, Requester, SpeakRequest
from core.studio import open_studio
from tests.processes import STUDIOBOT, clean_env
from tests.settings import offline_settings


async def studiobot(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, *args, env=clean_env(**env),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_usage_by_user_and_by_kind(tmp_path: Path) -> None:
    origin = Origin("discord", workspace="g1", channel="c1")
    async with open_studio(offline_settings(tmp_path)) as studio:
        for who, request in (("ada", SpeakRequest("hi")), ("ada", ImagineRequest("a cat", count=2)),
                             ("bob", SpeakRequest("yo"))):
            await studio.outcome((await studio.submit(request, Requester("discord", who), origin)).id)
    env = {"STUDIOBOT_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    code, out, err = await studiobot("usage", "--by", "user", "--days", "7", env=env)
    assert code == 0, err
    rows = {line.split("│")[2].strip(): [c.strip() for c in line.split("│")[3:8]]
            for line in out.splitlines() if line.count("│") >= 8}
    assert rows["ada"][:2] == ["2", "3"] and rows["bob"][:2] == ["1", "1"]
    code, out, _ = await studiobot("usage", env=env)
    assert "speak" in out and "imagine" in out and "Usage today (UTC)" in out
    code, _, err = await studiobot("usage", "--by", "galaxy", env=env)
    assert code == 2 and "galaxy" in err
