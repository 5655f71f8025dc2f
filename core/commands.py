"""The one text grammar for Slack, the playground and the CLI: ``/speak`` and ``/imagine`` lines to requests.

Forgiving on purpose: flags go before or after the text, ``--flag value`` or ``--flag=value``,
quotes only where a value has spaces, an apostrophe (``don't``) is never a quote, the short flags
the help shows (``-v Puck``) work, and the em dash phones turn ``--`` into still works. An opening
double quote that is never closed is refused with a hint rather than guessed at: the stray quote
would otherwise end up spoken, or inside a style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InputError
from core.requests import ASPECT_SIZES, EditRequest, ImagineRequest, Speaker, SpeakRequest
from core.text import excerpt
from core.voices import DEFAULT_VOICE, VOICES, dialogue_speakers

_VOICE_SAMPLE = ", ".join(v.name for v in VOICES[:6])
_ASPECTS = ", ".join(ASPECT_SIZES)

HELP: dict[str, str] = {
    "speak": (
        "/speak [--voice NAME] [--style \"how\"] [--language CODE] TEXT\n"
        "Turns TEXT into a voice clip. Flags go before or after the text.\n"
        f"  -v, --voice NAME      one of the prebuilt voices ({_VOICE_SAMPLE}, …); default {DEFAULT_VOICE}\n"
        "  -s, --style \"how\"     how to say it, e.g. --style \"warm and slow\" (quote it unless it comes last)\n"
        "  -l, --language CODE   a hint such as de-DE\n"
        "      --voice2 NAME     the second voice of a dialogue\n"
        "      --format FORMAT   the audio file: ogg, mp3 or wav (default mp3 on Slack, ogg elsewhere)\n"
        "Dialogue: write two speakers as `Name: line` lines, e.g.\n"
        "  /speak --voice Kore --voice2 Puck\n  Ana: Ready?\n  Ben: Always.\n"
        "Example: /speak --voice Puck Good morning, everyone!"
    ),
    "imagine": (
        "/imagine [--aspect W:H] [--count N] [--size S] PROMPT\n"
        "Draws an image from PROMPT. Flags go before or after the prompt.\n"
        f"  -a, --aspect W:H   one of {_ASPECTS}; default 1:1\n"
        "  -n, --count N      1-4 candidates; 2-4 come as one numbered grid (U takes one, V varies it)\n"
        "      --size S       512, 1K, 2K or 4K, as the model offers; default 1K\n"
        "Example: /imagine a lighthouse at dusk --aspect 16:9 --count 4"
    ),
    "edit": (
        "Reply to an image with what to change, e.g. make it night\n"
        "  -a, --aspect W:H   also change the aspect ratio\n"
        "Replying to an edited image edits it again."
    ),
}
HELP["help"] = "\n\n".join((HELP["speak"], HELP["imagine"], HELP["edit"]))

# canonical flag name per spelling, per command
# ("-v" is the single-dash short spelling the help shows)
_SPEAK_FLAGS = {"voice": "voice", "v": "voice", "-v": "voice", "voice2": "voice2", "second-voice": "voice2",
                "style": "style", "s": "style", "-s": "style", "language": "language", "lang": "language",
                "l": "language", "-l": "language", "format": "format"}
_FORMAT_ALIASES = {"opus": "ogg", "oga": "ogg", "mpeg": "mp3", "wave": "wav"}
_IMAGE_FLAGS = {"aspect": "aspect", "ar": "aspect", "ratio": "aspect", "aspect-ratio": "aspect", "a": "aspect",
                "-a": "aspect"}
_IMAGINE_FLAGS = _IMAGE_FLAGS | {"count": "count", "n": "count", "-n": "count", "size": "size"}
_FREE_TEXT = {"style"}  # values that may run to the end of the line when they come last
_HELP_WORDS = {"help", "--help", "-h", "-?", "?"}

_DASHES = ("--", "—", "–")  # phones and Slack turn -- into an em or en dash
_FLAG = re.compile(r"^(?:--|—|–)(?P<name>[A-Za-z][\w-]*)(?:=(?P<value>.*))?$", re.DOTALL)
_SHORT = re.compile(r"^-(?P<name>[A-Za-z])(?:=(?P<value>.*))?$", re.DOTALL)
_OPEN_CLOSE = {'"': '"”“', "“": '”"', "”": '”"', "'": "'’", "‘": "’'", "«": "»"}
_DOUBLE_QUOTES = '"“”«'  # an apostrophe may open a word ('tis); these never do
_COMMAND = re.compile(r"^\s*/?(?P<name>[A-Za-z]+)(?=\s|$)")


@dataclass(frozen=True, slots=True)
class Help:
    """Asked for help instead of work: show ``text``."""

    command: str
    text: str


ParsedCommand = SpeakRequest | ImagineRequest | Help


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    value: str
    quoted: bool


def _quoted_end(text: str, i: int) -> int | None:
    """Index just past the quote closing the one at ``i``, if it is closed before a space or the end."""
    closers = _OPEN_CLOSE.get(text[i])
    if closers is None:
        return None
    for j in range(i + 1, len(text)):
        if text[j] in closers and (j + 1 == len(text) or text[j + 1].isspace()):
            return j + 1
    return None


def tokenize(text: str) -> list[_Token]:
    """Split on whitespace; a quote at a word start groups to its closing quote if there is one."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        end = _quoted_end(text, i)
        if end is not None:
            tokens.append(_Token(i, end, text[i + 1:end - 1], True))
            i = end
            continue
        j = i
        while j < n and not text[j].isspace():
            if text[j] == "=" and text.startswith(_DASHES, i) and j + 1 < n:
                # --style="warm and slow": the quoted value may hold spaces
                close = _quoted_end(text, j + 1)
                if close is not None:
                    j = close
                    break
            j += 1
        tokens.append(_Token(i, j, text[i:j], False))
        i = j
    return tokens


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] in _OPEN_CLOSE and value[-1] in _OPEN_CLOSE[value[0]]:
        return value[1:-1]
    return value


def _span_text(text: str, run: list[_Token]) -> str:
    """The words as typed (inner spacing and newlines kept); a lone quoted run loses its quotes."""
    if len(run) == 1 and run[0].quoted:
        return run[0].value
    return text[run[0].start:run[-1].end]


def split_args(command: str, text: str, flags: dict[str, str]) -> tuple[dict[str, str], str]:
    """Pull the known flags out of ``text``; return them and the remaining text."""
    tokens = tokenize(text)
    for tok in tokens:
        _refuse_unclosed_quote(text, tok, flags)
    found: dict[str, str] = {}
    runs: list[list[_Token]] = [[]]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        m = _flag(tok, flags)
        if m is None:
            runs[-1].append(tok)
            i += 1
            continue
        spelled, inline = m
        name = flags.get(spelled)
        if name is None:
            known = ", ".join(f"--{f}" for f in dict.fromkeys(flags.values()))
            raise InputError(f"/{command} has no option --{excerpt(spelled, 30)}. "
                             f"It takes {known}; see /{command} help.")
        if name in found:
            raise InputError(f"--{name} is given twice; keep one.")
        if inline is not None:
            value = _unquote(inline)
            i += 1
        else:
            rest = tokens[i + 1:]
            if not rest or _is_flag(rest[0], flags):
                raise InputError(f"--{name} needs a value, e.g. {_example(command, name)}.")
            runs_so_far = any(runs)
            later_flags = any(_is_flag(t, flags) for t in rest)
            if name in _FREE_TEXT and runs_so_far and not later_flags and not rest[0].quoted:
                value = _span_text(text, rest)  # `hello --style warm and slow`: the rest is the style
                i = len(tokens)
            else:
                value = rest[0].value
                i += 2
        if not value.strip():
            raise InputError(f"--{name} needs a value, e.g. {_example(command, name)}.")
        found[name] = value.strip()
        runs.append([])
    words = " ".join(_span_text(text, run) for run in runs if run)
    return found, words.strip()


def _flag(tok: _Token, flags: dict[str, str]) -> tuple[str, str | None] | None:
    """(spelling, inline value) when ``tok`` is a flag; "—honestly" in prose is a dash, "-5" a number."""
    if tok.quoted:
        return None
    m = _FLAG.match(tok.value)
    if m is not None:
        known = tok.value.startswith("--") or m["name"].lower() in flags
        return (m["name"].lower(), m["value"]) if known else None
    short = _SHORT.match(tok.value)
    if short is not None and f"-{short['name']}" in flags:
        return f"-{short['name']}", short["value"]
    return None


def _is_flag(tok: _Token, flags: dict[str, str]) -> bool:
    return _flag(tok, flags) is not None


def _refuse_unclosed_quote(text: str, tok: _Token, flags: dict[str, str]) -> None:
    """An opening double quote with no closing one anywhere after it is a typo, not part of the words."""
    if tok.quoted:
        return
    m = _flag(tok, flags)
    value, start = tok.value, tok.start
    if m is not None:
        if m[1] is None:
            return
        value, start = m[1], tok.end - len(m[1])
    if not value or value[0] not in _DOUBLE_QUOTES:
        return
    if any(c in _OPEN_CLOSE[value[0]] for c in text[start + 1:]):
        return
    after = excerpt(text[start + 1:], 30)  # inert: the words may hold escapes or mentions
    raise InputError(f"The quote before “{after}” is never closed. Close it, \"like this\", or remove "
                     "it.")


def _example(command: str, flag: str) -> str:
    return {"voice": "--voice Puck", "voice2": "--voice2 Puck", "style": '--style "warm and slow"',
            "language": "--language de-DE", "aspect": "--aspect 16:9", "count": "--count 4", "size": "--size 2K",
            "format": "--format mp3"}.get(flag, f"/{command} help")


def _wants_help(text: str) -> bool:
    words = text.split()
    return (len(words) == 1 and words[0].lower() in _HELP_WORDS) or any(w in ("--help", "-h") for w in words)


def _needs_text(command: str, what: str) -> InputError:
    first = HELP[command].splitlines()[0]
    return InputError(f"Write the {what} after /{command}. Usage: {first} (see /{command} help).")


def parse_speak(text: str, *, default_format: str = "ogg") -> SpeakRequest | Help:
    """The arguments of ``/speak``: flags and the words to say (two `Name: line` speakers make a dialogue).

    ``default_format`` is the platform's: Slack plays MP3 inline, Discord voice messages are Ogg Opus.
    """
    if _wants_help(text):
        return Help("speak", HELP["speak"])
    found, words = split_args("speak", text, _SPEAK_FLAGS)
    if not words:
        raise _needs_text("speak", "text to say")
    voice = found.get("voice", DEFAULT_VOICE)
    voice2 = found.get("voice2")
    pairs = dialogue_speakers(words, voice, voice2)
    fmt = found.get("format", default_format).strip().lower().lstrip(".")
    return SpeakRequest(text=words, voice=voice, style=found.get("style"), language=found.get("language"),
                        speakers=tuple(Speaker(name, v) for name, v in pairs),
                        audio_format=_FORMAT_ALIASES.get(fmt, fmt))


def parse_imagine(text: str) -> ImagineRequest | Help:
    """The arguments of ``/imagine``: optional aspect ratio, count and size, and the prompt."""
    if _wants_help(text):
        return Help("imagine", HELP["imagine"])
    found, prompt = split_args("imagine", text, _IMAGINE_FLAGS)
    if not prompt:
        raise _needs_text("imagine", "prompt")
    count = found.get("count")
    if count is not None and not count.isdigit():
        raise InputError(f"--count takes a number from 1 to 4, not “{count[:12]}”.")
    return ImagineRequest(prompt=prompt, aspect=found.get("aspect"), count=int(count) if count else None,
                          size=found.get("size"))


def parse_edit(text: str, image: bytes, mask: bytes | None = None) -> EditRequest | Help:
    """A reply to an image: the text is the instruction, with an optional ``--aspect``."""
    if _wants_help(text):
        return Help("edit", HELP["edit"])
    found, instruction = split_args("edit", text, _IMAGE_FLAGS)
    if not instruction:
        raise InputError("Write what to change in the image, e.g. make it night.")
    return EditRequest(image=image, instruction=instruction, mask=mask, aspect=found.get("aspect"))


def parse(text: str) -> ParsedCommand:
    """A whole message such as ``/speak --voice Puck hi`` or ``/imagine help``."""
    m = _COMMAND.match(text)
    name = m["name"].lower() if m else ""
    rest = text[m.end():] if m else text
    if name == "speak":
        return parse_speak(rest)
    if name == "imagine":
        return parse_imagine(rest)
    if name == "help":
        return Help("help", HELP["help"])
    raise InputError("Start with /speak or /imagine, e.g. /speak Hello there. Type /help for the syntax.")
