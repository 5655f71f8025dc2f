"""A fake Discord (gateway, REST, CDN) for driving the real discord.py client in tests."""

from tests.fakes.discord.server import FakeDiscord, Upload
from tests.fakes.discord.state import EPHEMERAL, VOICE_MESSAGE, Interaction, pings_everyone, silent

__all__ = ["EPHEMERAL", "VOICE_MESSAGE", "FakeDiscord", "Interaction", "Upload", "pings_everyone", "silent"]
