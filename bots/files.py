"""Reading the files a user names: only regular files, never more than the cap, never a hang.

A path may name a FIFO (opening it blocking would wait forever for a writer), a character device
(``/dev/zero`` never ends), a directory, a socket, or a file that grows while we read it. We open
without blocking, look at what we opened (so a symlink is judged by its target), and count bytes
as they arrive instead of reading everything and checking afterwards.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from core.errors import InputError
from core.text import excerpt, size_text

CHUNK = 1024 * 1024
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def shown(path: Path | str, limit: int = 80) -> str:
    """A path fit to print: inert and short, even when the name holds escapes or undecodable bytes."""
    return excerpt(os.fsdecode(path), limit)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _too_big(path: Path, max_bytes: int, what: str) -> InputError:
    return InputError(f"The {what} {shown(path)} is larger than {size_text(max_bytes)}; "
                      "send a smaller file.")


def _cannot(path: Path, what: str, why: str) -> InputError:
    return InputError(f"Cannot read the {what} {shown(path)}: {why}.")


def _open(path: Path, what: str) -> int:
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        raise _cannot(path, what, "no such file") from None
    except PermissionError:
        raise _cannot(path, what, "permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a device with nothing behind it
            raise _cannot(path, what, "it is a socket or device, not a file") from None
        if exc.errno == errno.ELOOP:
            raise _cannot(path, what, "it is a symlink loop, not a file") from None
        raise _cannot(path, what, (exc.strerror or "unreadable").lower()) from None


def read_regular(path: Path, *, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, or an InputError naming what is wrong."""
    fd = _open(path, what)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _cannot(path, what, f"it is {_kind(info.st_mode)}, not a file")
        if info.st_size > max_bytes:
            raise _too_big(path, max_bytes, what)
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(CHUNK, max_bytes + 1 - total))
            except OSError as exc:
                raise _cannot(path, what, (exc.strerror or "read failed").lower()) from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew while we read it
                raise _too_big(path, max_bytes, what)
        return b"".join(chunks)
    finally:
        os.close(fd)
