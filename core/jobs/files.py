"""Files beside the journal: request inputs by content hash, results by job id."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from core.jobs.model import ResultRef
from core.results import AudioClip, ImageResult, Result, image_extension


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


class BlobStore:
    """Content-addressed input bytes (uploaded images, masks), shared between jobs that reuse them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self.root / key[:2] / key
        if not path.exists():
            write_atomic(path, data)
        return key

    @staticmethod
    def key_of(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def delete(self, key: str) -> bool:
        """Remove one input file (the caller checked no other job still refers to it)."""
        if not all(c in "0123456789abcdef" for c in key) or len(key) != 64:
            return False
        path = self.root / key[:2] / key
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def get(self, key: str) -> bytes:
        if not all(c in "0123456789abcdef" for c in key) or len(key) != 64:
            raise KeyError(key)
        return (self.root / key[:2] / key).read_bytes()


class ResultStore:
    """One file per finished job; the journal keeps only a reference and the metadata."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, job_id: str, result: Result) -> ResultRef:
        path = self.root / f"{job_id}.{result.extension}"
        write_atomic(path, result.data)
        meta: dict[str, float | int | str | bool] = {"offline": result.offline}
        if isinstance(result, AudioClip):
            meta |= {"container": result.container, "codec": result.codec,
                     "duration_s": result.duration_s, "sample_rate": result.sample_rate}
        else:
            meta |= {"width": result.width, "height": result.height}
            if result.candidates:  # a grid keeps every cell's full-size file beside it, for U1-U4 and V1-V4
                exts = [image_extension(c) for c in result.candidates]
                for n, (data, ext) in enumerate(zip(result.candidates, exts, strict=True), start=1):
                    write_atomic(self.root / f"{job_id}-{n}.{ext}", data)
                meta |= {"candidates": ",".join(exts), "failed": result.failed}
        return ResultRef(path=path.name, kind=result.kind, mime_type=result.mime_type, meta=meta)

    def delete(self, ref: ResultRef) -> None:
        self.path(ref).unlink(missing_ok=True)

    def path(self, ref: ResultRef) -> Path:
        return self.root / Path(ref.path).name

    def load(self, ref: ResultRef) -> Result:
        data = self.path(ref).read_bytes()
        m = ref.meta
        if ref.kind == "audio":
            return AudioClip(data=data, container=str(m["container"]), codec=str(m["codec"]),
                             duration_s=float(m["duration_s"]), sample_rate=int(m["sample_rate"]),
                             offline=bool(m.get("offline", False)))
        job_id = Path(ref.path).stem
        exts = [e for e in str(m.get("candidates", "")).split(",") if e]
        cells = tuple((self.root / f"{job_id}-{n}.{ext}").read_bytes() for n, ext in enumerate(exts, start=1))
        return ImageResult(data=data, mime_type=ref.mime_type, width=int(m["width"]), height=int(m["height"]),
                           offline=bool(m.get("offline", False)), candidates=cells, failed=int(m.get("failed", 0)))
