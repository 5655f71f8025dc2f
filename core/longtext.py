"""Long texts in parts a speech model reads well: paragraphs first, then sentences, never inside a word.

Dialogue lines (``Name: line``) are never split, so every part keeps whole turns and its speaker
labels. Parts keep the text's order; the studio generates them one after another with the same
voice and style and joins the audio into one clip.
"""

from __future__ import annotations

import re

_PARAGRAPH = re.compile(r"\n\s*\n")
# A sentence ends at . ! ? … (and closing quotes or brackets) followed by whitespace.
_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’)\]]*\s+")
_LABEL = re.compile(r"^\s*[^\W\d_][\w .'-]{0,31}?\s*:\s*\S")


def sentences(text: str) -> list[str]:
    """Split at sentence ends; the pieces keep their punctuation."""
    text = text.strip()
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append(text[start : m.end()].strip())
        start = m.end()
    out.append(text[start:].strip())
    return [s for s in out if s]


def _words(text: str, limit: int) -> list[str]:
    """A sentence longer than a part: break at spaces (a single word longer than a part is cut, as a last resort)."""
    out: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(word[:limit])
            word = word[limit:]
        if current and len(current) + 1 + len(word) > limit:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        out.append(current)
    return out


def _pack(units: list[str], limit: int, joiner: str) -> list[str]:
    """Greedily join units into parts of at most ``limit`` characters, in order."""
    parts: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + len(joiner) + len(unit) > limit:
            parts.append(current)
            current = unit
        else:
            current = f"{current}{joiner}{unit}" if current else unit
    if current:
        parts.append(current)
    return parts


def is_dialogue_text(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return len(lines) >= 2 and all(_LABEL.match(ln) for ln in lines)


def split_text(text: str, limit: int, *, dialogue: bool = False) -> list[str]:
    """Parts of at most ``limit`` characters (a single dialogue line longer than that stays whole)."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    if dialogue:
        return _pack([ln.strip() for ln in text.splitlines() if ln.strip()], limit, "\n")
    units: list[str] = []
    for paragraph in (p.strip() for p in _PARAGRAPH.split(text)):
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            units.append(paragraph)
            continue
        pieces: list[str] = []
        for sentence in sentences(paragraph):
            pieces.extend([sentence] if len(sentence) <= limit else _words(sentence, limit))
        # Sentences of one paragraph are packed together; the paragraph break survives between parts.
        units.extend(_pack(pieces, limit, " "))
    return _pack(units, limit, "\n\n")
