"""docs/discord.md followed as written: every shell line of steps 2 and 3 runs, in order, against the fake Discord.

The lines are read from the guide itself, so a guide that drifts from the CLI fails here. Placeholders
(`…`, the example ids) become the fake's token and ids; ``studiobot run`` is covered by test_ops.
"""

from __future__ import annotations

import asyncio
import base64
import re
import shlex
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from adapters.discord.manage import permissions
from tests.fakes.discord import FakeDiscord
from tests.processes import STUDIOBOT, clean_env

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "discord.md"
_BLOCK = re.compile(r"^## (?P<title>.+?)$|^```sh\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)


def guide_lines() -> dict[str, list[str]]:
    """The shell lines of each ``##`` section's ``sh`` blocks, comments dropped."""
    sections: dict[str, list[str]] = {}
    title = ""
    for m in _BLOCK.finditer(GUIDE.read_text()):
        if m["title"]:
            title = m["title"]
            continue
        for line in m["code"].splitlines():
            command = line.split("#", 1)[0].strip()
            if command:
                sections.setdefault(title, []).append(command)
    return sections


def real_looking_token(app_id: str) -> str:
    return base64.b64encode(app_id.encode()).decode().rstrip("=") + ".GfakeX.the-rest-of-a-secret-token"


async def run(line: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    words = shlex.split(line)
    assert words[0] == "studiobot", line
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, *words[1:], env=env, cwd=cwd,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_discord_guide_works_top_to_bottom(tmp_path: Path, fake: FakeDiscord) -> None:
    sections = guide_lines()
    token_step = next(lines for title, lines in sections.items() if title.startswith("2."))
    sync_step = next(lines for title, lines in sections.items() if title.startswith("3."))
    assert token_step[0].startswith("export DISCORD_TOKEN=")  # the token comes before anything that needs it
    fake.state.token = real_looking_token(fake.state.app_id)
    env = clean_env(STUDIOBOT_DISCORD_API_BASE=fake.api_base, STUDIOBOT_DISCORD_GATEWAY_URL=fake.gateway_url,
                    STUDIOBOT_DATA_DIR=str(tmp_path / "data"))
    seen: list[str] = []
    for line in token_step + sync_step:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = fake.state.token if value == "…" else value
            continue
        line = line.replace("--guild 1234", f"--guild {fake.state.guild_id}")
        line = line.replace("--client-id 1234567890", f"--client-id {fake.state.app_id}")
        code, out, err = await run(line, env, tmp_path)
        assert code == 0, f"{line}\n{out}{err}"
        assert "Traceback" not in out + err
        assert fake.state.token not in out + err  # never shown
        seen.append(line)
        if line == "studiobot doctor":
            assert "ok   DISCORD_TOKEN: has the shape of a bot token" in out
            assert "ok   Discord: would start" in out
        elif line == "studiobot doctor --online":
            assert "ok   Discord online: accepted: logged in as Studiobot" in out
        elif line == "studiobot discord invite":
            query = parse_qs(urlsplit(out.strip()).query)
            assert query["client_id"] == [fake.state.app_id]  # read from the token, as the guide says
            assert query["permissions"] == [str(permissions().value)]
            assert set(query["scope"][0].split()) == {"bot", "applications.commands"}
        elif line.startswith("studiobot discord sync --guild"):
            assert f"to server {fake.state.guild_id}" in out
        elif line == "studiobot discord sync":
            assert "to all servers" in out
    assert seen == ["studiobot doctor", "studiobot doctor --online", "studiobot discord invite",
                    f"studiobot discord sync --guild {fake.state.guild_id}", "studiobot discord sync"]


def test_the_guide_says_where_every_id_and_switch_is() -> None:
    text = GUIDE.read_text()
    for words in ("Application ID", "Developer Mode", "Copy Server ID", "Public Bot", "Installation",
                  "Guild Install", "User Install", "## Troubleshooting", "Missing Access", "Voice messages refused",
                  "commands don't show up", "bot is offline"):
        assert words in text, words
