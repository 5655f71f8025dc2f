"""manifest.yml creates the app the adapter expects: its commands, shortcut, events and only the scopes it uses."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.app import BOT_SCOPES
from adapters.slack.blend import BLEND_SHORTCUT
from adapters.slack.blocks import EDIT_SHORTCUT, IMAGINE_SHORTCUT

MANIFEST = Path(__file__).resolve().parents[3] / "manifest.yml"
SCOPES = {"commands", "chat:write", "files:write", "files:read", "app_mentions:read", "channels:history",
          "groups:history", "im:history", "users:read"}
HAS_YAML = importlib.util.find_spec("yaml") is not None


def _load() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return data


@pytest.mark.skipif(not HAS_YAML, reason="PyYAML is not installed")
def test_manifest_declares_what_the_app_handles() -> None:
    manifest = _load()
    features = manifest["features"]
    assert [c["command"] for c in features["slash_commands"]] == ["/speak", "/imagine", "/studio"]
    assert all(c["should_escape"] is False for c in features["slash_commands"])
    edit, imagine, blend = features["shortcuts"]
    assert blend["callback_id"] == BLEND_SHORTCUT
    assert edit == edit | {"type": "message", "callback_id": EDIT_SHORTCUT, "name": "Edit image"}
    assert imagine == imagine | {"type": "message", "callback_id": IMAGINE_SHORTCUT, "name": "Imagine from this image"}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == SCOPES == set(BOT_SCOPES)  # what OAuth installs ask
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True and settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "app_home_opened",
                                                                  "message.channels", "message.groups", "message.im"}
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]


def test_manifest_names_every_scope_and_socket_mode() -> None:
    """Without PyYAML: the same facts, read line by line."""
    text = MANIFEST.read_text()
    listed = {line.split("#")[0].strip().removeprefix("- ") for line in text.splitlines()
              if line.strip().startswith("- ")}
    assert listed >= SCOPES
    assert "socket_mode_enabled: true" in text and f"callback_id: {EDIT_SHORTCUT}" in text
