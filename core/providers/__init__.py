"""Where speech and images come from: Gemini with a key, else the offline provider."""

from __future__ import annotations

import logging

from core.providers.base import Provider
from core.settings import Settings

log = logging.getLogger(__name__)


def make_provider(settings: Settings) -> Provider:
    """Gemini with a key, else the offline provider (and say so loudly)."""
    if settings.use_gemini:
        from core.providers.gemini import GeminiProvider

        return GeminiProvider(settings)
    from core.providers.offline import OfflineProvider

    log.debug("No GEMINI_API_KEY set: using the offline provider")
    return OfflineProvider()
