"""Per-server settings as frozen dataclasses, and their JSON form in the journal database."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

KINDS = ("speak", "imagine", "edit")
LIMIT_NAMES = ("user_per_minute", "server_per_minute", "user_per_day", "server_per_day",
               "user_cost_per_day", "server_cost_per_day")


@dataclass(frozen=True, slots=True)
class CommandRules:
    """Who may use one command where: empty channel or role lists mean everywhere and everyone."""

    enabled: bool = True
    channels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # Discord role ids, Slack user-group ids


@dataclass(frozen=True, slots=True)
class Limits:
    """Overrides of the operator's defaults; ``None`` inherits the setting, 0 means unlimited."""

    user_per_minute: int | None = None
    server_per_minute: int | None = None
    user_per_day: int | None = None
    server_per_day: int | None = None
    user_cost_per_day: float | None = None  # USD
    server_cost_per_day: float | None = None


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """One Discord server's or Slack workspace's choices; the defaults allow everything."""

    commands: dict[str, CommandRules] = field(default_factory=dict)
    default_voice: str | None = None
    default_aspect: str | None = None
    voice_message: bool = False
    play: bool = False
    blocklist: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)

    def rules(self, kind: str) -> CommandRules:
        return self.commands.get(kind, CommandRules())

    def with_rules(self, kind: str, **changes: Any) -> ServerSettings:
        rules = dataclasses.replace(self.rules(kind), **changes)
        return dataclasses.replace(self, commands={**self.commands, kind: rules})


def dump(settings: ServerSettings) -> str:
    return json.dumps(dataclasses.asdict(settings), separators=(",", ":"), sort_keys=True)


def load(text: str | None) -> ServerSettings:
    """Tolerant: unknown keys (a newer version's) are ignored, so an older process still starts."""
    if not text:
        return ServerSettings()
    raw = json.loads(text)
    commands = {
        kind: CommandRules(enabled=bool(r.get("enabled", True)), channels=tuple(map(str, r.get("channels", ()))),
                           roles=tuple(map(str, r.get("roles", ()))))
        for kind, r in (raw.get("commands") or {}).items() if kind in KINDS and isinstance(r, dict)
    }
    limits_raw = raw.get("limits") or {}
    limits = Limits(**{k: limits_raw.get(k) for k in LIMIT_NAMES if k in limits_raw})
    return ServerSettings(
        commands=commands, default_voice=raw.get("default_voice"), default_aspect=raw.get("default_aspect"),
        voice_message=bool(raw.get("voice_message", False)), play=bool(raw.get("play", False)),
        blocklist=tuple(str(t) for t in raw.get("blocklist", ()) if str(t).strip()), limits=limits,
    )
