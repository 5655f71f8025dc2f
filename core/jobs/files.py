"""Files beside the journal: request inputs by content hash, results by job id.

Where the bytes live is the backend's business (``core/jobs/storage.py``): the data directory, or the
shared PostgreSQL when front ends and workers run on different machines.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from psycopg_pool import ConnectionPool

from core.db.base import is_postgres
from core.jobs.model import ResultRef
from core.jobs.storage import (
    TIDY_EVERY_S,
    DirectoryFiles,
    Files,
    PostgresFiles,
    close_pool,
    open_pool,
    write_atomic,
)
from core.results import AudioClip, ImageResult, Result, image_extension

log = logging.getLogger(__name__)
_HEX = frozenset("0123456789abcdef")


def _blob_name(key: str) -> str:
    if len(key) != 64 or not set(key) <= _HEX:
        raise KeyError(key)
    return f"{key[:2]}/{key}"


class BlobStore:
    """Content-addressed input bytes (uploaded images, masks), shared between jobs that reuse them."""

    def __init__(self, files: Files) -> None:
        self.files = files

    def put(self, data: bytes) -> str:
        key = self.key_of(data)
        self.files.write({_blob_name(key): data}, keep=True)
        return key

    @staticmethod
    def key_of(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def delete(self, key: str) -> bool:
        """Remove one input file (the caller checked no other job still refers to it)."""
        try:
            name = _blob_name(key)
        except KeyError:
            return False
        return self.files.delete([name]) > 0

    def get(self, key: str) -> bytes:
        return self.files.read([_blob_name(key)])[0]

    def prune(self, keep: set[str], before: float) -> int:
        """Remove inputs no job refers to, stored before ``before`` and not reused since; how many went."""
        unused = [n for n in self.files.written_before(before) if n.rsplit("/", 1)[-1] not in keep]
        return self.files.delete(unused, before=before)


class ResultStore:
    """One file per finished job (and one per grid cell); the journal keeps only a reference and the metadata."""

    def __init__(self, files: Files) -> None:
        self.files = files

    def save(self, job_id: str, result: Result) -> ResultRef:
        name = f"{job_id}.{result.extension}"
        written: dict[str, bytes] = {}
        meta: dict[str, float | int | str | bool] = {"offline": result.offline}
        if isinstance(result, AudioClip):
            meta |= {"container": result.container, "codec": result.codec,
                     "duration_s": result.duration_s, "sample_rate": result.sample_rate}
        else:
            meta |= {"width": result.width, "height": result.height}
            if result.candidates:  # a grid keeps every cell's full-size file beside it, for U1-U4 and V1-V4
                exts = [image_extension(c) for c in result.candidates]
                written |= {f"{job_id}-{n}.{ext}": data
                            for n, (data, ext) in enumerate(zip(result.candidates, exts, strict=True), start=1)}
                meta |= {"candidates": ",".join(exts), "failed": result.failed}
        self.files.write(written | {name: result.data})  # the cells first: a result file means a whole result
        return ResultRef(path=name, kind=result.kind, mime_type=result.mime_type, meta=meta)

    def delete(self, ref: ResultRef) -> int:
        """Remove the result and its grid cells; how many files went."""
        return self.files.delete(_names(ref))

    def path(self, ref: ResultRef) -> Path:
        """A local file to stream (fetched from the shared database first when scaled out)."""
        return self.files.local(Path(ref.path).name)

    def tidy(self) -> None:
        self.files.tidy()

    def load(self, ref: ResultRef) -> Result:
        data, *cells = self.files.read(_names(ref))
        m = ref.meta
        if ref.kind == "audio":
            return AudioClip(data=data, container=str(m["container"]), codec=str(m["codec"]),
                             duration_s=float(m["duration_s"]), sample_rate=int(m["sample_rate"]),
                             offline=bool(m.get("offline", False)))
        return ImageResult(data=data, mime_type=ref.mime_type, width=int(m["width"]), height=int(m["height"]),
                           offline=bool(m.get("offline", False)), candidates=tuple(cells),
                           failed=int(m.get("failed", 0)))


def _names(ref: ResultRef) -> list[str]:
    """The result's file, then its grid cells in order."""
    name = Path(ref.path).name
    exts = [e for e in str(ref.meta.get("candidates", "")).split(",") if e]
    return [name, *(f"{Path(name).stem}-{n}.{ext}" for n, ext in enumerate(exts, start=1))]


@dataclass(frozen=True, slots=True)
class Stores:
    """The input and result stores of one process, and the pool they share when scaled out."""

    blobs: BlobStore
    results: ResultStore
    pool: ConnectionPool | None = None

    async def close(self) -> None:
        if self.pool is not None:
            await close_pool(self.pool)

    async def tidy_forever(self) -> None:
        """Keep the local copies of streamed results short-lived, and gone soon after a Delete anywhere."""
        while True:
            await asyncio.sleep(TIDY_EVERY_S)
            try:
                await asyncio.to_thread(self.results.tidy)
            except Exception:
                log.exception("tidying the local copies of results failed")


def directory_stores(data_dir: Path) -> Stores:
    """Inputs and results under the data directory: the embedded default."""
    return Stores(BlobStore(DirectoryFiles(data_dir / "blobs")), ResultStore(DirectoryFiles(data_dir / "results")))


async def open_stores(url: str | None, data_dir: Path) -> Stores:
    """In the shared PostgreSQL for a ``postgresql://`` URL (every machine reads what any other wrote),
    else in the data directory. Streamed results are copied into ``data_dir/cache`` on demand."""
    if is_postgres(url):
        pool, cache = await open_pool(url), data_dir / "cache"
        return Stores(BlobStore(PostgresFiles(pool, "blobs/", cache)),
                      ResultStore(PostgresFiles(pool, "results/", cache)), pool)
    return directory_stores(data_dir)


__all__ = ["BlobStore", "ResultStore", "Stores", "directory_stores", "open_stores", "write_atomic"]
