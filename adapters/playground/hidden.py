"""What the user removed from the timeline: single entries (Delete) and everything before a moment (Clear).

The journal is shared with the other platforms and keeps every job; the playground only stops
showing them. One small JSON file beside the uploads, so a reload or a restart keeps it that way.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from core.jobs.files import write_atomic

MAX_IDS = 5000  # older deletions are covered by a later clear, or simply age out of the history window


class Hidden:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids: set[str] = set()
        self.cleared_at = 0.0
        try:
            data = json.loads(path.read_text())
            self.ids = {str(i) for i in data.get("ids", [])}
            self.cleared_at = float(data.get("cleared_at", 0.0))
        except (OSError, ValueError, TypeError, AttributeError):
            pass  # nothing hidden yet, or a damaged file: show everything rather than fail

    def shows(self, entry: dict[str, Any]) -> bool:
        return entry["id"] not in self.ids and float(entry.get("created_at") or 0.0) > self.cleared_at

    def hide(self, entry_id: str) -> None:
        """Blocking (writes the file): call in a thread."""
        self.ids.add(entry_id)
        self._save()

    def clear(self) -> float:
        """Blocking: hide everything made until now."""
        self.cleared_at = time.time()
        self.ids.clear()
        self._save()
        return self.cleared_at

    def _save(self) -> None:
        ids = sorted(self.ids)[-MAX_IDS:]
        write_atomic(self.path, json.dumps({"ids": ids, "cleared_at": self.cleared_at}).encode())
