"""Leases: each open job is owned by one process, which renews its claim with a heartbeat.

A process that dies stops renewing, and once ``lease_until`` passes any other process (or the next start)
takes the job over. On one host a dead owner is recognised at once by its pid, so a restart after a crash
does not wait out the lease. The owner id never holds a secret: ``host:pid:random``.
"""

from __future__ import annotations

import os
import secrets
import socket
import time


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_is_dead(owner: str) -> bool:
    """True only when certain: the owner ran on this host and its process is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return pid != os.getpid() and not _pid_alive(pid)


class Lease:
    """This process's identity and the lease length it claims jobs for."""

    def __init__(self, lease_s: float, owner: str | None = None) -> None:
        self.owner = owner or new_owner()
        self.lease_s = lease_s

    @property
    def heartbeat_s(self) -> float:
        return max(0.05, self.lease_s / 3)

    def until(self) -> float:
        return time.time() + self.lease_s
