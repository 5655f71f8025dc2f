"""A server's own rules: commands on/off, channels, roles, and blocked words however they are spelt."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.community.blocklist import Blocklist
from core.community.model import ServerSettings
from core.errors import NotAllowed
from core.requests import ImagineRequest, Origin, Requester, SpeakRequest
from core.studio import open_studio
from tests.core.conftest import make_settings

ORIGIN = Origin("test", workspace="guild1", channel="art")
MEMBER = Requester("test", "u1", "Ada", roles=("artists",))


@pytest.mark.parametrize("prompt", [
    "a cursed sword", "A CURSED sword", "a cursеd sword",  # Cyrillic е
    "a ｃｕｒｓｅｄ sword", "a cúrsed sword", "a curs3d sword", "a c\u200bursed sword", "a cur$ed sword",
])
def test_a_blocked_word_matches_whatever_its_spelling(prompt: str) -> None:
    assert Blocklist(["cursed"]).matches(prompt)


@pytest.mark.parametrize("prompt", ["a cursedness", "accursed", "a curse", "cur sed", "2024 castles"])
def test_only_whole_words_match(prompt: str) -> None:
    assert not Blocklist(["cursed", "2o24"]).matches(prompt)


def test_phrases_match_as_a_run_of_words() -> None:
    blocked = Blocklist(["red fox"])
    assert blocked.matches("a Red   FOX, sleeping")
    assert not blocked.matches("a red and a fox")




async def test_rules_refuse_with_the_reason_and_never_echo_the_blocklist(tmp_path: Path) -> None:
    async with open_studio(make_settings(tmp_path)) as studio:
        def rules(s: ServerSettings) -> ServerSettings:
            s = dataclasses.replace(s, blocklist=("dragonfire", "cursed"))
            s = s.with_rules("speak", enabled=False)
            return s.with_rules("imagine", channels=("art",), roles=("artists",))

        await studio.community.update("test", "guild1", rules)

        with pytest.raises(NotAllowed, match="turned off") as off:
            await studio.submit(SpeakRequest("hello"), MEMBER, ORIGIN)
        assert off.value.reason == "disabled"
        with pytest.raises(NotAllowed, match="isn't allowed in this channel") as where:
            await studio.submit(ImagineRequest("a cat"), MEMBER, dataclasses.replace(ORIGIN, channel="general"))
        assert where.value.reason == "channel" and "Try art" in where.value.user_message
        with pytest.raises(NotAllowed, match="only for members with") as who:
            await studio.submit(ImagineRequest("a cat"), Requester("test", "u2"), ORIGIN)
        assert who.value.reason == "role"
        with pytest.raises(NotAllowed) as blocked:
            await studio.submit(ImagineRequest("a CURSЕD cat"), MEMBER, ORIGIN)  # Cyrillic Е
        assert blocked.value.reason == "blocklist"
        assert "cursed" not in blocked.value.user_message.lower()
        assert "dragonfire" not in blocked.value.user_message.lower()

        job = await studio.submit(ImagineRequest("a cat"), MEMBER, ORIGIN)
        admin = await studio.submit(ImagineRequest("a cat"), Requester("test", "boss", admin=True), ORIGIN)
        assert (await studio.job(job.id)) is not None and (await studio.job(admin.id)) is not None
        assert len(await studio.recent("test")) == 2  # nothing refused was journaled


async def test_settings_outlive_a_restart_and_other_servers_keep_theirs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with open_studio(settings) as studio:
        await studio.community.update("test", "guild1", lambda s: dataclasses.replace(s, default_voice="Puck"))
    async with open_studio(settings) as studio:
        assert (await studio.community.server("test", "guild1")).default_voice == "Puck"
        assert (await studio.community.server("test", "guild2")) == ServerSettings()
