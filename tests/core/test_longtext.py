"""Long texts split where a reader would pause: paragraphs, then sentences, never inside a word."""

from __future__ import annotations

from core.longtext import sentences, split_text


def test_short_text_is_one_part() -> None:
    assert split_text("  Hello there.  ", 100) == ["Hello there."]


def test_paragraphs_are_kept_together_when_they_fit() -> None:
    one, two, three = "A" * 40 + ".", "B" * 40 + ".", "C" * 40 + "."
    parts = split_text(f"{one}\n\n{two}\n\n{three}", 90)
    assert parts == [f"{one}\n\n{two}", three]


def test_a_long_paragraph_splits_at_sentences() -> None:
    paragraph = " ".join(f"Sentence {n} is here!" for n in range(40))
    parts = split_text(paragraph, 100)
    assert all(len(p) <= 100 for p in parts)
    assert all(p.endswith("!") for p in parts)  # every part ends where a sentence ends
    assert " ".join(parts) == paragraph


def test_never_inside_a_word() -> None:
    text = "word " * 500  # one endless sentence
    parts = split_text(text, 77)
    assert all(len(p) <= 77 for p in parts)
    assert all(set(p.split()) == {"word"} for p in parts)


def test_dialogue_lines_stay_whole() -> None:
    lines = [f"{'Ann' if n % 2 else 'Bob'}: line number {n}, which says a few things. And more." for n in range(30)]
    parts = split_text("\n".join(lines), 200, dialogue=True)
    assert [ln for p in parts for ln in p.splitlines()] == lines


def test_sentences_keep_their_closing_quotes() -> None:
    assert sentences('He said "stop." Then left. Why? Because.') == ['He said "stop."', "Then left.", "Why?",
                                                                     "Because."]
