"""User text in and out: refuse what is not text or says nothing; make every echo inert and short.

Inbound, text is NFC-normalised, must be real Unicode (no lone surrogates from undecodable bytes,
no NUL), and loses terminal controls. "Says nothing" is judged on what a reader would see: zero-width,
bidi, variation-selector and combining characters, spaces and controls do not count.

Outbound, :func:`excerpt` is the one way user words are repeated in errors, captions and logs: one
line, no control sequences (a ``\\x1b[2J`` in a voice name must not clear a terminal), no live Discord
or Slack mentions, no markdown links, and short.
"""

from __future__ import annotations

import re
import unicodedata

from core.errors import InputError

EXCERPT_CHARS = 40
_ZWSP = "\u200b"
# ESC-introduced sequences: CSI (colours, clear screen), OSC (window titles, hyperlinks), and two-byte escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]?")
_KEEP_CONTROLS = frozenset("\n\t")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me", "Zs", "Zl", "Zp"})
_WORDS = frozenset({"L", "N"})
# Letters and symbols that draw nothing: Hangul fillers, the blank Braille pattern, Mongolian vowel separator.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# <@123> <@!123> <@&123> <#123> (Discord), <@U1> <!here> <#C1|x> <https://x|y> (Slack): any <…> token.
_ANGLE = re.compile(r"<([^<>\n]{0,200})>")
_AT = re.compile(r"@(?=[\w!&#])", re.UNICODE)
_LINK = re.compile(r"\]\s*\(")


def _category(ch: str) -> str:
    return unicodedata.category(ch)


def normalise(text: str, *, what: str = "text") -> str:
    """NFC text with terminal controls removed, or an InputError when the input is not text at all."""
    if "\x00" in text:
        raise InputError(f"The {what} contains a NUL byte; send plain text.")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InputError(f"The {what} isn't valid UTF-8 text; send plain text.")
    text = _ESCAPES.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch in _KEEP_CONTROLS or _category(ch) != "Cc")
    return unicodedata.normalize("NFC", text)


def visible(text: str) -> str:
    """The characters a reader would see: no spaces, controls, format marks or lone combining marks."""
    return "".join(ch for ch in text if _category(ch) not in _INVISIBLE and ch not in _BLANKS)


def has_words(text: str) -> bool:
    """At least one letter or digit: something a voice can say."""
    return any(_category(ch)[0] in _WORDS for ch in visible(text))


def says_something(text: str) -> bool:
    """Something beyond punctuation: letters, digits or symbols such as emoji (enough for a picture)."""
    return any(_category(ch)[0] not in ("P",) for ch in visible(text))


def is_text(value: str) -> bool:
    """Would :func:`normalise` accept it?"""
    return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)


def strip_controls(text: str) -> str:
    """Terminal escapes and control characters gone, line breaks kept (for multi-line echoes)."""
    if not is_text(text):
        text = text.encode("utf-8", "replace").decode("utf-8", "replace").replace("\x00", "")
    text = _ESCAPES.sub("", text.replace("\r\n", "\n"))
    return "".join(ch for ch in text if ch == "\n" or _category(ch) not in ("Cc", "Cf"))


def inert(text: str) -> str:
    """One line with no controls, no live mentions and no markdown or Slack links; not shortened."""
    if not is_text(text):
        text = text.encode("utf-8", "replace").decode("utf-8", "replace").replace("\x00", "")
    text = _ESCAPES.sub("", text)
    text = "".join(" " if _category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    text = "".join(ch for ch in text if _category(ch) != "Cf")  # bidi overrides could reorder the rest
    text = _ANGLE.sub(lambda m: f"‹{m.group(1)}›", text)
    text = text.replace("<", "‹").replace(">", "›")
    text = _AT.sub("@" + _ZWSP, text)
    text = _LINK.sub("] (", text)
    return " ".join(text.split())


def size_text(n: int) -> str:
    """A byte count as people say it: 20 MB, 512 KB, 104 bytes."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} bytes"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """User words fit to repeat anywhere: inert, one line, at most ``limit`` characters (… when cut)."""
    clean = inert(text)
    return clean if len(clean) <= limit else clean[: max(0, limit - 1)].rstrip() + "…"
