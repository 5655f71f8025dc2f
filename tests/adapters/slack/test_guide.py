"""docs/slack.md and manifest.yml against the running adapter: what the manifest declares is handled, and the
usage hints Slack shows under each command name every flag the parser takes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from core.commands import HELP
from tests.adapters.slack.conftest import Rig
from tests.fakes.slack.web_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.processes import STUDIOBOT, clean_env

ROOT = Path(__file__).resolve().parents[3]
yaml = pytest.importorskip("yaml")


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return data


def long_flags(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", help_text)) - {"--help"}


def test_usage_hints_list_every_flag_the_help_shows() -> None:
    hints = {c["command"]: c["usage_hint"] for c in manifest()["features"]["slash_commands"]}
    for command in ("speak", "imagine"):
        flags = long_flags(HELP[command])
        assert flags, command
        assert long_flags(hints[f"/{command}"]) == flags, command


async def test_every_declared_command_and_shortcut_is_handled(slack: Rig) -> None:
    features = manifest()["features"]
    for command in features["slash_commands"]:
        status, _, _ = await slack.slash(command["command"], "help")
        assert status == 200, command["command"]
    message = {"type": "message", "ts": "1700000000.000100", "user": "U0ALICE", "text": "no picture here"}
    for shortcut in features["shortcuts"]:
        status, _, _ = await slack.shortcut(message, callback_id=shortcut["callback_id"])
        assert status == 200, shortcut["callback_id"]
    # ...and the check can fail: something the manifest does not declare is not handled.
    status, _, _ = await slack.slash("/undeclared", "help")
    assert status == 404


def test_the_guide_has_the_troubleshooting_it_promises() -> None:
    text = (ROOT / "docs" / "slack.md").read_text()
    for words in ("## Troubleshooting", "not_in_channel", "dispatch_failed", "missing_scope", "studiobot doctor"):
        assert words in text, words


async def test_doctor_online_asks_slack_about_both_tokens(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        env = clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, STUDIOBOT_SLACK_API_URL=fake.api_url,
                        STUDIOBOT_DATA_DIR=str(tmp_path / "data"))
        proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "doctor", "--online", env=env, cwd=tmp_path,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 60))
    finally:
        await fake.stop()
    assert proc.returncode == 0, out + err
    assert "ok   Slack: would start" in out
    assert "ok   Slack online: accepted: studiobot in Fake" in out
    assert BOT_TOKEN not in out + err and APP_TOKEN not in out + err
    assert "ok   Slack Socket Mode: SLACK_APP_TOKEN accepted" in out
    assert [c.method for c in fake.calls] == ["auth.test", "apps.connections.open"]
