"""Per-server defaults (post speech as a voice message, play it in voice), kept in a small JSON file."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
OPTIONS = ("voice_message", "play")


class GuildPrefs:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, bool]] | None = None

    def _load(self) -> dict[str, dict[str, bool]]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text())
                self._data = {str(g): {k: bool(v) for k, v in p.items() if k in OPTIONS} for g, p in raw.items()}
            except FileNotFoundError:
                self._data = {}
            except (OSError, ValueError, AttributeError):
                log.warning("ignoring unreadable server defaults in %s", self.path)
                self._data = {}
        return self._data

    def get(self, guild_id: int | None, option: str) -> bool:
        if guild_id is None:
            return False
        return self._load().get(str(guild_id), {}).get(option, False)

    def set(self, guild_id: int, option: str, value: bool) -> None:
        data = self._load()
        data.setdefault(str(guild_id), {})[option] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def resolve(self, guild_id: int | None, option: str, given: bool | None) -> bool:
        """An explicit command option wins; otherwise the server's default."""
        return self.get(guild_id, option) if given is None else given
