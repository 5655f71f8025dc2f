"""Images people drop into the playground: kept on disk beside the journal so replies can edit them later."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.jobs.files import write_atomic
from core.media import images
from core.text import excerpt

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_SIDE = 2048
_ID = re.compile(r"^[0-9a-f]{12}$")
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    name: str
    mime_type: str
    width: int
    height: int
    created_at: float

    @property
    def extension(self) -> str:
        return _EXT.get(self.mime_type, "bin")


class UploadStore:
    """``<id>.img`` holds the bytes, ``<id>.json`` what they are. Blocking: call from a worker thread."""

    def __init__(self, root: Path, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def add(self, data: bytes, name: str) -> Upload:
        """Normalise (upright, bounded) and keep an image; raises InputError for anything else."""
        clean = images.prepare_input(data, max_side=MAX_SIDE, what="image")
        width, height = images.size_of(clean)
        upload = Upload(id=secrets.token_hex(6), name=excerpt(Path(name or "image").name, 120) or "image",
                        mime_type=images.sniff(clean) or "image/png", width=width, height=height,
                        created_at=time.time())
        write_atomic(self.root / f"{upload.id}.img", clean)
        write_atomic(self.root / f"{upload.id}.json", json.dumps(asdict(upload)).encode())
        return upload

    def get(self, upload_id: str) -> Upload | None:
        if not _ID.match(upload_id):
            return None
        try:
            return Upload(**json.loads((self.root / f"{upload_id}.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def path(self, upload: Upload) -> Path:
        return self.root / f"{upload.id}.img"

    def data(self, upload: Upload) -> bytes:
        return self.path(upload).read_bytes()

    def recent(self, limit: int = 200) -> list[Upload]:
        """The newest ``limit`` uploads, oldest first."""
        if not self.root.is_dir():
            return []
        found = [u for p in self.root.glob("*.json") if (u := self.get(p.stem)) is not None]
        return sorted(found, key=lambda u: u.created_at)[-limit:]
