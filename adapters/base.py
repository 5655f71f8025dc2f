"""What ``studiobot run`` needs from every adapter: a delivery hook up front, then serve until cancelled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from core.jobs.delivery import DeliveryHook
from core.studio import Studio


class Adapter(Protocol):
    name: str
    hook: DeliveryHook  # registered before the studio starts, so resumed jobs reach it

    async def serve(self, studio: Studio, *, on_ready: Callable[[str], None] | None = None) -> None: ...
