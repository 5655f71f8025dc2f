"""Properties that hold for ANY input: the parser, validation, normalisation and echo-sanitising.

For every string: parsing gives a request, help, or an InputError with one short line; a parsed
request validates to a request or an InputError; an echo has no control characters, no live
mention and no markdown link, and is short; parsing does not care about surrounding whitespace.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from core.commands import Help, parse, parse_edit
from core.errors import InputError
from core.providers.base import ProviderLimits
from core.requests import ASPECT_SIZES, EditRequest, ImagineRequest, Request, SpeakRequest
from core.text import excerpt, has_words, inert, normalise, visible
from core.validation import validate
from core.voices import VOICES

LIMITS = ProviderLimits()
PROPERTY = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
LIVE_MENTION = re.compile(r"<@!?&?\d+>|<#\d+>|<![a-z^]+|@(everyone|here|channel)\b|<@[A-Z0-9]+>")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(")

# Everything hostile a chat line can hold: controls, escapes, invisible and combining marks, bidi,
# look-alikes, quotes of every kind, dashes phones make, mentions, and lone surrogates.
HOSTILE_CHARS = st.sampled_from(
    list("\x00\x07\x08\x1b\x7f\x85\x9b\u200b\u200c\u200d\u2060\ufeff\u202e\u2066\ufe0f\u0301\u20dd\u3164\u2800"
         "\u00a0\u3000\n\r\t \"'“”‘’«»—–-=:@<>#![]()`*_~|/\\КоrеＫ")
)
TEXT = st.text(st.one_of(st.characters(), HOSTILE_CHARS), max_size=80)
WORDS = st.sampled_from(["hello", "a fox", "Ana: hi", "Ben: yo", "don't", "--voice", "—voice", "-v", "help",
                         "<@123>", "@everyone", "[x](http://e)", "\x1b[2J", "\u200b", "🙂", "“quoted words”",
                         "'single", "Kore", "Puck", "16:9", "de-DE", "--aspect", "--style", "=", "--"])
FLAGS = st.sampled_from(["--voice", "--voice2", "--style", "--language", "--aspect", "-v", "-s", "-l", "-a",
                         "—voice", "–style", "--bogus", "--VOICE", "--voice=", "--style=“warm and slow”", "-x"])
VALUES = st.one_of(st.sampled_from([v.name for v in VOICES[:4]] + list(ASPECT_SIZES)[:4]
                                   + ["", " ", "Коrе", "Ｋｏｒｅ", "de-DE", "xx", "\x1b[31m", "“warm and slow”"]),
                   TEXT)


@st.composite
def command_lines(draw: st.DrawFn) -> str:
    """A command built from hostile pieces: a command word, flags with values, and words, in any order."""
    head = draw(st.sampled_from(["/speak", "/imagine", "speak", "/SPEAK", "/help", "/edit", "", "/"]))
    parts = draw(st.lists(st.one_of(WORDS, FLAGS, VALUES, st.tuples(FLAGS, VALUES).map(" ".join)), max_size=8))
    gaps = draw(st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \n "]), min_size=len(parts) + 1,
                         max_size=len(parts) + 1))
    return head + "".join(g + p for g, p in zip(gaps, [*parts, ""], strict=True))


def one_line(message: str) -> None:
    assert message and "\n" not in message and "\r" not in message
    assert len(message) <= 400, message
    assert "Traceback" not in message
    assert not any(unicodedata.category(ch) == "Cc" for ch in message), repr(message)


def outcome(text: str) -> Request | Help | str:
    """What a user gets for ``text``: a validated request, help, or the refusal's words."""
    try:
        parsed = parse(text)
        if isinstance(parsed, Help):
            return parsed
        return asyncio.run(validate(parsed, LIMITS))
    except InputError as err:
        return err.user_message


@PROPERTY
@given(st.one_of(TEXT, command_lines()))
@example("/speak \udcff")
@example("/speak --voice \x1b[2J hi")
@example('/speak "unclosed --voice Puck hello')
@example("/imagine --aspect ＝16:9 x")
def test_any_line_is_a_request_or_a_one_line_refusal(text: str) -> None:
    got = outcome(text)
    if isinstance(got, str):
        one_line(got)
        for mention in ("<@", "<#", "<!", "\x1b"):
            assert mention not in got, got
    elif isinstance(got, SpeakRequest):
        assert has_words(got.text)
        assert got.voice in {v.name for v in VOICES}
    elif isinstance(got, ImagineRequest):
        assert visible(got.prompt)
        assert got.aspect in ASPECT_SIZES


@PROPERTY
@given(command_lines(), st.sampled_from(["", " ", "  \t", "\n"]), st.sampled_from(["", " ", "\t ", "\n\n"]))
def test_parsing_ignores_surrounding_whitespace(text: str, before: str, after: str) -> None:
    assume(text.strip())
    assert outcome(text) == outcome(before + text + after)


@PROPERTY
@given(TEXT, TEXT, st.sampled_from([None, "16:9", "bogus", "", "\x1b[2J"]))
def test_any_edit_instruction_is_an_edit_or_a_one_line_refusal(text: str, extra: str, aspect: str | None) -> None:
    line = text + (f" --aspect {aspect}" if aspect is not None else "") + extra
    try:
        parsed = parse_edit(line, b"")
    except InputError as err:
        one_line(err.user_message)
        return
    if isinstance(parsed, EditRequest):
        assert parsed.image == b""


@PROPERTY
@given(st.builds(SpeakRequest, text=TEXT, voice=VALUES, style=st.one_of(st.none(), VALUES),
                 language=st.one_of(st.none(), VALUES)))
def test_any_speak_request_validates_or_is_refused_in_one_line(request: SpeakRequest) -> None:
    try:
        valid = asyncio.run(validate(request, LIMITS))
    except InputError as err:
        one_line(err.user_message)
        return
    assert isinstance(valid, SpeakRequest)
    assert has_words(valid.text) and len(valid.text) <= LIMITS.max_text_chars
    assert normalise(valid.text) == valid.text


@PROPERTY
@given(TEXT, st.integers(min_value=1, max_value=300))
@example("\x1b[2J<@123> @everyone [click](https://x) <!channel>", 60)
@example("\x1b]0;title\x07 \x9b31m red", 20)
def test_an_echo_is_inert_and_short(text: str, limit: int) -> None:
    echoed = excerpt(text, limit)
    assert len(echoed) <= limit
    assert "\n" not in echoed
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in echoed), repr(echoed)
    assert not any(unicodedata.category(ch) == "Cf" and ch not in "\u200b\u2060" for ch in echoed), repr(echoed)
    assert not LIVE_MENTION.search(echoed), echoed
    assert not MARKDOWN_LINK.search(echoed), echoed


@PROPERTY
@given(TEXT)
def test_inert_text_is_a_fixed_point(text: str) -> None:
    once = inert(text)
    assert inert(once) == once


@PROPERTY
@given(TEXT)
def test_normalising_twice_changes_nothing(text: str) -> None:
    try:
        once = normalise(text)
    except InputError as err:
        one_line(err.user_message)
        assert "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)
        return
    assert normalise(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert "\x1b" not in once


@pytest.mark.parametrize("text", ["", " ", "\u200b\u200d", "\u202e\u2066", "\ufe0f", "\u0301\u0308", "\u3164",
                                  "\u2800", "\ufeff\u00a0"])
def test_invisible_text_is_seen_as_empty(text: str) -> None:
    assert visible(text) == ""
    assert isinstance(outcome(f"/speak {text}"), str)
    assert isinstance(outcome(f"/imagine {text}"), str)
