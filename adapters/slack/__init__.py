"""Slack: ``/speak``, ``/imagine``, image edits in threads and from a message shortcut (slack-bolt)."""

from __future__ import annotations

from adapters.slack.app import SlackAdapter
from core.settings import Settings


def build(settings: Settings) -> SlackAdapter:
    """What ``studiobot run`` calls when SLACK_BOT_TOKEN and an app token or signing secret are set."""
    return SlackAdapter(settings)


__all__ = ["SlackAdapter", "build"]
