"""Quality filters on normalized (display) text. Each returns None to keep the record, or
(reason, detail) to reject it; the reason is the filter's name, so `--no-filter NAME` names it.

>>> split_note("坐飞机撵（ni", "n追赶）西北风", LIMITS)[0]
'split_note'
>>> unbalanced_brackets("钟馗（kui）打饱嗝", "肚里有鬼", LIMITS) is None
True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from curate.normalize import match_key

Verdict = tuple[str, str] | None


class Limits(NamedTuple):
    max_question: int = 500
    max_answer: int = 200


LIMITS = Limits()

# Opening bracket -> its family; full- and half-width forms of a pair close each other.
_OPEN = {"（": "(", "(": "(", "【": "[", "[": "[", "《": "<", "“": '"', "「": "「", "『": "『"}
_CLOSE = {"）": "(", ")": "(", "】": "[", "]": "[", "》": "<", "”": '"', "」": "「", "』": "『"}
_LATIN_HEAD = re.compile(r"^[a-z][a-z ]*(?=[^a-zA-Z]|$)")
# A note opened and cut off at the end of a field: `撵（ni`, `鞍鞯（`.
_OPEN_TAIL = re.compile(r"[（(][a-zA-Z ]*$")
# One lowercase letter stuck to the end of Chinese text: `冰凌挂胸n` (two or more are more
# likely a word: `唱卡拉ok`).
_LATIN_TAIL = re.compile(r"[\u3400-\u9fff][a-z]$")
# UTF-8 bytes read as Latin-1/cp1252: a lead byte letter (Ã, ä, å, æ, ç, è, é...) followed by
# a continuation byte shown as Latin-1 supplement or cp1252 punctuation (€, ‚, ƒ, „, …).
_LATIN1_RUN = re.compile(
    "[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d"
    "\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026"
    "\u2030\u2039\u203a\u20ac\u2122]"
)
_GARBLED = ("\ufffd", "锟斤拷", "烫烫烫", "屯屯屯")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def empty_question(question: str, answer: str, limits: Limits) -> Verdict:
    return None if question.strip() else ("empty_question", "the question is empty")


def empty_answer(question: str, answer: str, limits: Limits) -> Verdict:
    return None if answer.strip() else ("empty_answer", "the answer is empty")


def punctuation_only(question: str, answer: str, limits: Limits) -> Verdict:
    """`？？？`, `）`: no words to match a copy by (after split_note, which names the usual
    cause of a lone bracket)."""
    for name, text in (("question", question), ("answer", answer)):
        if not match_key(text):
            return ("punctuation_only", f"the {name} has only punctuation: {text[:20]!r}")
    return None


def mojibake(question: str, answer: str, limits: Limits) -> Verdict:
    for name, text in (("question", question), ("answer", answer)):
        for garbled in _GARBLED:
            if garbled in text:
                return ("mojibake", f"{name} contains {garbled!r} (a decoding accident)")
        for pattern, what in (
            (_LATIN1_RUN, "UTF-8 read as Latin-1"),
            (_PRIVATE_USE, "a private-use character"),
        ):
            found = pattern.search(text)
            if found:
                return ("mojibake", f"{name} contains {found.group()!r} ({what})")
    return None


def _unclosed(text: str) -> tuple[str, int] | None:
    """The first bracket that is never matched, as (char, 0-based position), or None."""
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if ch in _OPEN:
            stack.append((ch, i))
        elif ch in _CLOSE:
            if not stack or _OPEN[stack[-1][0]] != _CLOSE[ch]:
                return ch, i
            stack.pop()
    return stack[0] if stack else None


def split_note(question: str, answer: str, limits: Limits) -> Verdict:
    """A pinyin or gloss note cut in two by a bad field split, or a stray Latin fragment.

    Typical of scraped 歇后语: `坐飞机撵（ni` + `n追赶）西北风`, `攥（zu` + `n握）着金条进棺材`.
    """
    q_tail, a_head = _OPEN_TAIL.search(question), _LATIN_HEAD.match(answer)
    if q_tail and (a_head or _unclosed(answer)):
        shown = f"answer starts with {answer[:6]!r}"
        return (
            "split_note",
            f"a note is split across the fields: question ends inside {q_tail.group()!r}, {shown}",
        )
    for name, text in (("question", question), ("answer", answer)):
        tail = _OPEN_TAIL.search(text) or _LATIN_TAIL.search(text)
        if tail:
            return ("split_note", f"{name} ends inside a cut-off note: {tail.group()!r}")
        head = _LATIN_HEAD.match(text)
        if head and _unclosed(text):
            return ("split_note", f"{name} starts with the tail of a cut-off note: {text[:6]!r}")
    return None


def unbalanced_brackets(question: str, answer: str, limits: Limits) -> Verdict:
    for name, text in (("question", question), ("answer", answer)):
        bad = _unclosed(text)
        if bad:
            ch, pos = bad
            what = "is never closed" if ch in _OPEN else "closes nothing"
            return ("unbalanced_brackets", f"{name}: {ch!r} at character {pos + 1} {what}")
    return None


def answer_equals_question(question: str, answer: str, limits: Limits) -> Verdict:
    key = match_key(question)
    if key and key == match_key(answer):
        return ("answer_equals_question", "the answer repeats the question")
    return None


def too_long(question: str, answer: str, limits: Limits) -> Verdict:
    for name, text, limit, flag in (
        ("question", question, limits.max_question, "--max-question-chars"),
        ("answer", answer, limits.max_answer, "--max-answer-chars"),
    ):
        if len(text) > limit:
            return ("too_long", f"{name} has {len(text)} characters (limit {limit}; {flag})")
    return None


# In order: the first filter that rejects gives the record's one reason.
FILTERS: dict[str, Callable[[str, str, Limits], Verdict]] = {
    f.__name__: f
    for f in (
        empty_question,
        empty_answer,
        mojibake,
        split_note,
        unbalanced_brackets,
        punctuation_only,
        answer_equals_question,
        too_long,
    )
}


def check(
    question: str,
    answer: str,
    limits: Limits = LIMITS,
    disabled: frozenset[str] | tuple[str, ...] = (),
) -> Verdict:
    """Run the enabled filters in order; return the first rejection, or None to keep."""
    for name, fn in FILTERS.items():
        if name not in disabled:
            verdict = fn(question, answer, limits)
            if verdict is not None:
                return verdict
    return None


# What the column-wise checks (curate.stages.ingest.batches) look for before calling `check`.
OPENING, CLOSING, GARBLED = _OPEN, _CLOSE, _GARBLED
OPEN_TAIL, LATIN_TAIL = _OPEN_TAIL.pattern, _LATIN_TAIL.pattern
LATIN1_RUN, PRIVATE_USE = _LATIN1_RUN.pattern, _PRIVATE_USE.pattern
