"""Blocked prompt terms: whole words, case-insensitive, after folding look-alike characters.

``ｈ４ｔｅ``, ``Hаte`` (Cyrillic а), ``h@te`` and ``HÀTE`` all fold to ``hate``: NFKC first (full-width,
ligatures, maths letters), then accents dropped, then a table of the confusables people use to dodge
filters (Cyrillic and Greek letters that look Latin, leetspeak digits and symbols), then casefold.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Unicode confusables (Cyrillic/Greek capitals and small letters drawn like Latin ones) and common leetspeak.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "һ": "h",
    "ɡ": "g", "ı": "i", "ℓ": "l",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s",
                       "!": "i", "|": "l", "€": "e"})
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff\u034f]")
_WORD = re.compile(r"[\w@$!|€]+")


def fold(text: str) -> str:
    """Case, width, accents and look-alikes removed: what a reader sees, not what was typed."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.casefold().translate(_CONFUSABLES)


def words(text: str) -> list[str]:
    """Folded words; leetspeak is read as letters only inside words that have a letter."""
    out: list[str] = []
    for token in _WORD.findall(fold(text)):
        raw = token.strip("!|")  # "fox!" is a fox; only inside a word is "!" an i
        word = raw.translate(_LEET) if any(c.isalpha() for c in raw) else raw
        out.extend(w for w in re.split(r"_+", word) if w)
    return out


class Blocklist:
    """Terms (single words or phrases) matched as whole words in the folded prompt."""

    def __init__(self, terms: Iterable[str]) -> None:
        self._phrases = [tuple(words(t)) for t in terms]
        self._phrases = [p for p in self._phrases if p]

    def __bool__(self) -> bool:
        return bool(self._phrases)

    def matches(self, text: str) -> bool:
        said = words(text)
        for phrase in self._phrases:
            n = len(phrase)
            if any(tuple(said[i:i + n]) == phrase for i in range(len(said) - n + 1)):
                return True
        return False
