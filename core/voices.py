"""Gemini's prebuilt voices and the two-speaker script grammar."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InputError
from core.text import excerpt, visible


@dataclass(frozen=True, slots=True)
class Voice:
    name: str
    character: str


VOICES: tuple[Voice, ...] = tuple(
    Voice(name, character)
    for name, character in (
        ("Zephyr", "Bright"), ("Puck", "Upbeat"), ("Charon", "Informative"), ("Kore", "Firm"),
        ("Fenrir", "Excitable"), ("Leda", "Youthful"), ("Orus", "Firm"), ("Aoede", "Breezy"),
        ("Callirrhoe", "Easy-going"), ("Autonoe", "Bright"), ("Enceladus", "Breathy"), ("Iapetus", "Clear"),
        ("Umbriel", "Easy-going"), ("Algieba", "Smooth"), ("Despina", "Smooth"), ("Erinome", "Clear"),
        ("Algenib", "Gravelly"), ("Rasalgethi", "Informative"), ("Laomedeia", "Upbeat"), ("Achernar", "Soft"),
        ("Alnilam", "Firm"), ("Schedar", "Even"), ("Gacrux", "Mature"), ("Pulcherrima", "Forward"),
        ("Achird", "Friendly"), ("Zubenelgenubi", "Casual"), ("Vindemiatrix", "Gentle"), ("Sadachbia", "Lively"),
        ("Sadaltager", "Knowledgeable"), ("Sulafat", "Warm"),
    )
)
VOICES_BY_KEY = {v.name.lower(): v for v in VOICES}
DEFAULT_VOICE = "Kore"
DEFAULT_SECOND_VOICE = "Puck"

_TURN = re.compile(r"^\s*(?P<name>[^\W\d_][\w .'-]{0,31}?)\s*:\s*(?P<line>\S.*)$")


def canonical_voice(name: str) -> str:
    """Return the voice's proper spelling, or explain which names exist."""
    voice = VOICES_BY_KEY.get(name.strip().lower())
    if voice is None:
        if not visible(name):
            raise InputError("The voice name is empty. Try one of: " + ", ".join(v.name for v in VOICES[:8]) + ", …")
        raise InputError(
            f"Unknown voice “{excerpt(name, 40)}”. Try one of: " + ", ".join(v.name for v in VOICES[:8]) + ", …"
        )
    return voice.name


def split_dialogue(text: str) -> list[tuple[str, str]] | None:
    """Read ``Name: line`` lines as a dialogue of exactly two speakers, else None."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return None
    turns: list[tuple[str, str]] = []
    for ln in lines:
        m = _TURN.match(ln)
        if m is None:
            return None
        turns.append((m["name"].strip(), m["line"].strip()))
    names = {name for name, _ in turns}
    return turns if len(names) == 2 else None


def speaker_names(turns: list[tuple[str, str]]) -> tuple[str, str]:
    """The two speakers in order of first appearance."""
    seen: list[str] = []
    for name, _ in turns:
        if name not in seen:
            seen.append(name)
    return seen[0], seen[1]


VOICE2_NEEDS_DIALOGUE = ("voice2 is for a two-speaker dialogue: write the text as `Name: line` lines, one per line, "
                         "with exactly two names.")


def dialogue_speakers(text: str, voice: str, voice2: str | None = None) -> tuple[tuple[str, str], ...]:
    """(speaker, voice) pairs when ``text`` is a two-person script, else ().

    A second voice given for anything else is refused here, so Slack, the playground, Discord
    and the CLI all apply the same rule instead of some silently dropping it.
    """
    turns = split_dialogue(text)
    if turns is None:
        if voice2 is not None:
            raise InputError(VOICE2_NEEDS_DIALOGUE)
        return ()
    first, second = speaker_names(turns)
    other = voice2 or (DEFAULT_SECOND_VOICE if voice.lower() != DEFAULT_SECOND_VOICE.lower() else DEFAULT_VOICE)
    return ((first, voice), (second, other))
