"""What ``studiobot run`` needs from every adapter: a delivery hook up front, then serve until cancelled.

A worker (``studiobot worker``) takes no events: it only enters ``delivering`` and posts through the hook.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from core.jobs.delivery import DeliveryHook
from core.studio import Studio


class Adapter(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def hook(self) -> DeliveryHook:
        """Registered before the studio starts, so jobs resumed from a previous run reach it."""
        ...

    async def serve(self, studio: Studio, *, on_ready: Callable[[str], None] | None = None) -> None: ...

    def delivering(self, studio: Studio) -> AbstractAsyncContextManager[None]:
        """Open what delivery needs without taking events (no gateway, no Socket Mode, no listener)."""
        ...
