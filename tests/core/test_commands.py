"""Users type commands the way they talk; the parser takes what they mean or says what to fix."""

from __future__ import annotations

import pytest

from core.commands import HELP, Help, parse, parse_edit, parse_imagine, parse_speak, tokenize
from core.errors import InputError
from core.requests import EditRequest, ImagineRequest, Speaker, SpeakRequest
from core.voices import dialogue_speakers


def speak(text: str) -> SpeakRequest:
    result = parse(text)
    assert isinstance(result, SpeakRequest)
    return result


def imagine(text: str) -> ImagineRequest:
    result = parse(text)
    assert isinstance(result, ImagineRequest)
    return result


def test_plain_speak_uses_the_default_voice() -> None:
    req = speak("/speak hello world")
    assert req.text == "hello world"
    assert req.voice == "Kore"
    assert req.style is None
    assert req.speakers == ()


@pytest.mark.parametrize(
    "line",
    [
        '/speak --voice Puck --style "warm and slow" Good morning',
        '/speak Good morning --voice Puck --style "warm and slow"',
        "/speak Good morning --voice=Puck --style=\"warm and slow\"",
        "/speak --voice Puck Good morning --style warm and slow",
        "/speak —voice Puck —style “warm and slow” Good morning",
    ],
)
def test_flags_go_before_or_after_the_text(line: str) -> None:
    req = speak(line)
    assert (req.text, req.voice, req.style) == ("Good morning", "Puck", "warm and slow")


def test_apostrophes_are_not_quotes() -> None:
    assert speak("/speak don't stop, it's fine").text == "don't stop, it's fine"
    assert speak("/speak 'tis the season --voice Puck").text == "'tis the season"


@pytest.mark.parametrize("line", ['/speak --style "unterminated hello', '/speak hi --style="warm',
                                  '/speak she said "hi and left', "/imagine a “quoted cat"])
def test_an_unclosed_double_quote_is_refused_with_a_hint(line: str) -> None:
    with pytest.raises(InputError, match=r"never closed\. Close it"):
        parse(line)


def test_closed_quotes_followed_by_punctuation_are_fine() -> None:
    assert speak('/speak he said "hi", then left').text == 'he said "hi", then left'


def test_the_short_flags_the_help_shows_work() -> None:
    assert "-v, --voice" in HELP["speak"] and "-a, --aspect" in HELP["imagine"]
    req = speak("/speak -v Puck hi -s warm and slow")
    assert (req.text, req.voice, req.style) == ("hi", "Puck", "warm and slow")
    assert speak("/speak -l de-DE hallo").language == "de-DE"
    img = parse("/imagine a cat -a 16:9")
    assert isinstance(img, ImagineRequest) and (img.prompt, img.aspect) == ("a cat", "16:9")
    assert speak("/speak -5 degrees outside").text == "-5 degrees outside"


@pytest.mark.parametrize("text", ["hello there", "A: one\nB: two\nC: three"])
def test_voice2_without_a_two_speaker_dialogue_is_refused_by_the_core(text: str) -> None:
    with pytest.raises(InputError, match="voice2 is for a two-speaker dialogue"):
        parse(f"/speak --voice2 Puck {text}")
    with pytest.raises(InputError, match="voice2 is for a two-speaker dialogue"):
        dialogue_speakers(text, "Kore", "Puck")  # the rule the CLI and Discord use too


def test_a_fully_quoted_text_loses_its_quotes_but_inner_quotes_stay() -> None:
    assert speak('/speak "hello --voice world"').text == "hello --voice world"
    assert speak('/speak he said "hi" twice').text == 'he said "hi" twice'


def test_dashes_in_prose_are_not_flags() -> None:
    assert speak("/speak I was — honestly — surprised").text == "I was — honestly — surprised"
    assert speak("/speak wait -- what").text == "wait -- what"
    assert speak("/speak it was —honestly— fine").text == "it was —honestly— fine"


def test_two_speaker_dialogue_keeps_lines_and_gets_two_voices() -> None:
    req = speak("/speak --voice Kore --voice2 Charon\nAna: Ready?\nBen: Always.")
    assert req.text == "Ana: Ready?\nBen: Always."
    assert req.speakers == (Speaker("Ana", "Kore"), Speaker("Ben", "Charon"))


def test_dialogue_without_voice2_picks_a_different_second_voice() -> None:
    req = speak("/speak Ana: Ready?\nBen: Always.")
    assert [s.voice for s in req.speakers] == ["Kore", "Puck"]


def test_voice2_without_a_dialogue_explains_the_format() -> None:
    with pytest.raises(InputError, match="Name: line"):
        parse("/speak --voice2 Puck just one line")


def test_language_flag() -> None:
    assert speak("/speak --lang de-DE Guten Tag").language == "de-DE"


def test_imagine_with_aspect_anywhere() -> None:
    for line in ("/imagine a lighthouse --aspect 16:9", "/imagine --aspect 16:9 a lighthouse",
                 "/imagine --ar=16:9 a lighthouse"):
        req = imagine(line)
        assert (req.prompt, req.aspect) == ("a lighthouse", "16:9")
    assert imagine("/imagine a cat").aspect is None


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/speak --colour red hi", "no option --colour"),
        ("/speak hi --voice", "--voice needs a value"),
        ("/speak --voice --style calm hi", "--voice needs a value"),
        ("/speak --voice Puck", "Write the text to say"),
        ("/speak", "Write the text to say"),
        ("/imagine --aspect 16:9", "Write the prompt"),
        ("/imagine --seed 4 a cat", "takes --aspect"),
        ("/speak --voice Puck --voice Kore hi", "twice"),
        ("/dance now", "Start with /speak or /imagine"),
        ("hello", "Start with /speak or /imagine"),
    ],
)
def test_bad_syntax_says_what_to_fix(line: str, says: str) -> None:
    with pytest.raises(InputError) as err:
        parse(line)
    assert says in err.value.user_message


@pytest.mark.parametrize(("line", "command"), [("/speak help", "speak"), ("/imagine help", "imagine"),
                                                ("/imagine --help", "imagine"), ("/help", "help"),
                                                ("/SPEAK Help", "speak")])
def test_help_shows_the_syntax(line: str, command: str) -> None:
    result = parse(line)
    assert isinstance(result, Help)
    assert result.command == command
    assert result.text == HELP[command]


def test_help_as_a_word_in_a_sentence_is_just_text() -> None:
    assert speak("/speak help is on the way").text == "help is on the way"


def test_slack_style_argument_parsers_take_the_text_after_the_command() -> None:
    assert parse_speak("--voice Puck hi") == SpeakRequest(text="hi", voice="Puck")
    assert parse_imagine("a fox --aspect 3:2") == ImagineRequest(prompt="a fox", aspect="3:2")


def test_edit_reply_is_the_instruction() -> None:
    req = parse_edit("make it night --aspect 16:9", b"png", b"mask")
    assert req == EditRequest(image=b"png", instruction="make it night", mask=b"mask", aspect="16:9")
    with pytest.raises(InputError, match="what to change"):
        parse_edit("   ", b"png")


def test_tokenize_groups_quotes_only_at_word_starts() -> None:
    assert [t.value for t in tokenize("a \"b c\" don't 'd e'")] == ["a", "b c", "don't", "d e"]
