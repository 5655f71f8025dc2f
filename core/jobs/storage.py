"""Where job files live: a local directory (one machine), or the ``files`` table of the shared PostgreSQL.

Both backends are synchronous on purpose: the input and result stores are called from worker threads
(``asyncio.to_thread``), so the PostgreSQL one uses psycopg's blocking pool and never touches the event
loop. A file is written whole or not at all (a rename, or one transaction); names are checked by the
stores above, which build them.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Protocol

from psycopg_pool import ConnectionPool

CACHE_TTL_S = 600.0  # a streamed result's local copy on a front end lives this long after its last use
TIDY_EVERY_S = 60.0  # and is removed within this long of its row being deleted anywhere
POOL_SIZE = 4  # threads beyond it wait for a connection (in their thread, never on the loop)
COPY_BATCH_BYTES = 16 << 20


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write then rename, fsynced, so a crash never leaves half a file under the real name.

    The temporary file is private (0600); ``mode`` sets the final permissions, e.g. for a file the
    user asked for, which should look like any other file they create.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Files(Protocol):
    """Named files of bytes, each with the time it was last written."""

    def write(self, files: Mapping[str, bytes], *, keep: bool = False) -> None:
        """Store every file; with ``keep`` a file that exists keeps its bytes and only counts as new again."""
        ...

    def read(self, names: Sequence[str]) -> list[bytes]:
        """The files' bytes in order; FileNotFoundError if any is missing."""
        ...

    def delete(self, names: Iterable[str], *, before: float | None = None) -> int:
        """Remove the files (only those last written before ``before``, if given); how many went."""
        ...

    def written_before(self, before: float) -> list[str]:
        """Every file last written before the time: what retention may remove."""
        ...

    def local(self, name: str) -> Path:
        """A local file with the bytes, to stream; a path that does not exist when the file does not."""
        ...

    def tidy(self) -> None:
        """Drop local copies that are stale or whose file is gone (a deleted result leaves no trace here)."""
        ...


def _older(path: Path, before: float) -> bool:
    try:
        return path.stat().st_mtime < before
    except FileNotFoundError:
        return False


def _touch(path: Path) -> bool:
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _walk(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))


class DirectoryFiles:
    """Files under one directory: the embedded default, and every process on one machine sharing it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, files: Mapping[str, bytes], *, keep: bool = False) -> None:
        for name, data in files.items():
            path = self.root / name
            if not (keep and _touch(path)):  # touched: retention sees a reused input as new again
                write_atomic(path, data)

    def read(self, names: Sequence[str]) -> list[bytes]:
        return [(self.root / name).read_bytes() for name in names]

    def delete(self, names: Iterable[str], *, before: float | None = None) -> int:
        removed = 0
        for name in names:
            path = self.root / name
            if before is not None and not _older(path, before):
                continue
            with suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed

    def written_before(self, before: float) -> list[str]:
        return [p.relative_to(self.root).as_posix() for p in _walk(self.root) if _older(p, before)]

    def local(self, name: str) -> Path:
        return self.root / name

    def tidy(self) -> None:
        return None


class PostgresFiles:
    """Files as rows of the shared ``files`` table, under a prefix (``results/``, ``blobs/``).

    A front end streams a result from a local copy in ``cache``: its modification time is the row's
    ``created_at``, so a rewritten result is fetched again, and a copy whose row is gone is removed.
    """

    def __init__(self, pool: ConnectionPool, prefix: str, cache: Path) -> None:
        self.pool = pool
        self.prefix = prefix
        self.cache = cache / prefix
        self._tidy_lock = threading.Lock()

    def write(self, files: Mapping[str, bytes], *, keep: bool = False) -> None:
        now = time.time()
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for name, data in files.items():
                if keep:  # an input that is already there: no need to send its bytes again
                    cur.execute("UPDATE files SET created_at = %s WHERE name = %s", (now, self.prefix + name))
                    if cur.rowcount:
                        continue
                cur.execute("INSERT INTO files (name, data, created_at) VALUES (%s, %s, %s) ON CONFLICT (name)"
                            " DO UPDATE SET data = excluded.data, created_at = excluded.created_at",
                            (self.prefix + name, data, now))

    def read(self, names: Sequence[str]) -> list[bytes]:
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT name, data FROM files WHERE name = ANY(%s)",
                                ([self.prefix + n for n in names],), binary=True).fetchall()
        found = {str(name)[len(self.prefix):]: bytes(data) for name, data in rows}
        if missing := [n for n in names if n not in found]:
            raise FileNotFoundError(f"no stored file {self.prefix}{missing[0]}")
        return [found[n] for n in names]

    def delete(self, names: Iterable[str], *, before: float | None = None) -> int:
        names = list(names)
        if not names:
            return 0
        with self.pool.connection() as conn:
            cur = conn.execute("DELETE FROM files WHERE name = ANY(%s) AND (%s::float8 IS NULL OR created_at < %s)"
                               " RETURNING name", ([self.prefix + n for n in names], before, before))
            gone = [str(r[0])[len(self.prefix):] for r in cur.fetchall()]
        for name in gone:
            (self.cache / name).unlink(missing_ok=True)
        return len(gone)

    def written_before(self, before: float) -> list[str]:
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT name FROM files WHERE starts_with(name, %s) AND created_at < %s",
                                (self.prefix, before)).fetchall()
        return [str(r[0])[len(self.prefix):] for r in rows]

    def local(self, name: str) -> Path:
        path = self.cache / name
        with self.pool.connection() as conn:
            row = conn.execute("SELECT created_at, octet_length(data) FROM files WHERE name = %s",
                               (self.prefix + name,)).fetchone()
            if row is None:
                path.unlink(missing_ok=True)
                return path
            created_at, size = float(row[0]), int(row[1])
            if _same(path, created_at, size):
                os.utime(path, (time.time(), created_at))  # in use: tidy keeps it
            else:
                data = conn.execute("SELECT data FROM files WHERE name = %s", (self.prefix + name,),
                                    binary=True).fetchone()
                if data is None:  # deleted between the two statements
                    return path
                write_atomic(path, bytes(data[0]))
                os.utime(path, (time.time(), created_at))
        return path

    def tidy(self) -> None:
        if not self._tidy_lock.acquire(blocking=False):
            return
        try:
            copies = {p.relative_to(self.cache).as_posix(): p for p in _walk(self.cache)}
            if not copies:
                return
            with self.pool.connection() as conn:
                rows = conn.execute("SELECT name FROM files WHERE name = ANY(%s)",
                                    ([self.prefix + n for n in copies],)).fetchall()
            present = {str(r[0])[len(self.prefix):] for r in rows}
            stale = time.time() - CACHE_TTL_S
            for name, path in copies.items():
                if name not in present or _accessed_before(path, stale):
                    path.unlink(missing_ok=True)
        finally:
            self._tidy_lock.release()

    def copy_directory(self, root: Path) -> int:
        """Bring the files of a local directory in, keeping their age and never overwriting; how many came."""
        copied, size = 0, 0
        batch: list[tuple[str, bytes, float]] = []
        for path in sorted(_walk(root)):
            batch.append((path.relative_to(root).as_posix(), path.read_bytes(), path.stat().st_mtime))
            size += len(batch[-1][1])
            if size >= COPY_BATCH_BYTES:
                copied, batch, size = copied + self._insert_new(batch), [], 0
        return copied + self._insert_new(batch)

    def _insert_new(self, batch: list[tuple[str, bytes, float]]) -> int:
        if not batch:
            return 0
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            copied = 0
            for name, data, created_at in batch:
                cur.execute("INSERT INTO files (name, data, created_at) VALUES (%s, %s, %s)"
                            " ON CONFLICT (name) DO NOTHING", (self.prefix + name, data, created_at))
                copied += max(cur.rowcount, 0)
        return copied


def _same(path: Path, created_at: float, size: int) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    return st.st_size == size and abs(st.st_mtime - created_at) < 1e-3


def _accessed_before(path: Path, before: float) -> bool:
    try:
        return path.stat().st_atime < before
    except FileNotFoundError:
        return False


async def open_pool(url: str) -> ConnectionPool:
    """The blocking pool the file stores use from their threads; opened off the loop."""
    pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, open=False, name="studiobot-files")
    await asyncio.to_thread(pool.open, wait=True, timeout=30)
    return pool


async def close_pool(pool: ConnectionPool) -> None:
    await asyncio.to_thread(pool.close)
