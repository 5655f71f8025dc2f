"""Hostile chat lines every adapter must refuse plainly: (id, command, arguments, words in the refusal)."""

from __future__ import annotations

import re

# Something that would ping, link or repaint a terminal if it were echoed as typed.
LIVE = re.compile(r"<@!?&?\w+>|<#\w+|<!\w+|(?<![\w\u200b])@(everyone|here|channel)\b|\x1b|\x9b|\]\(")

SPEAK = [
    ("zero-width-only", "\u200b\u200d\u2060", "empty"),
    ("bidi-only", "\u202e\u2066\u2069", "empty"),
    ("combining-only", "\u0301\u0308", "empty"),
    ("hangul-filler", "\u3164 \u3164", "empty"),
    ("punctuation-only", "?! … —", "nothing to say"),
    ("emoji-only", "🙂🎉👍🏽", "nothing to say"),
    ("nul", "hello\x00there", "NUL"),
    ("too-long", "word " * 4001, "the limit is 20,000"),
    ("escape-voice", "--voice \x1b[2JGandalf hi", "Unknown voice"),
    ("mention-voice", "--voice <@123456789> hi", "Unknown voice"),
    ("everyone-voice", "--voice @everyone hi", "Unknown voice"),
    ("link-voice", "--voice [x](https://evil.example) hi", "Unknown voice"),
    ("lookalike-voice", "--voice Коrе hi", "Unknown voice"),
    ("unknown-flag", "--colour red hi", "no option"),
    ("repeated-flag", "--voice Kore --voice Puck hi", "twice"),
    ("bad-language", "--language \x1b[31menglish hi", "language code"),
]
IMAGINE = [
    ("blank-prompt", "\u200b \ufe0f", "empty"),
    ("punctuation-prompt", "?!...", "nothing to say"),
    ("fullwidth-aspect", "a fox --aspect １６:９", "aspect ratio"),
    ("escape-aspect", "a fox --aspect 7:3\x1b[2J", "aspect ratio"),
    ("mention-aspect", "a fox --aspect <@&123>", "aspect ratio"),
    ("megabyte-prompt", "a" * 50_000, "the limit is 4,000"),
]
