"""Answer metrics for `curate eval`: pure functions of (reply, reference) -> score.

What a reference accepts and what a reply states come from `curate.evaluation.answers`
(bracketed notes, alternatives, answer labels, quoted spans, lists of guesses).

- exact_match: the reply, or the answer it states, equals one accepted form of the reference;
- contains: exact, or the reference appears in the reply; for a reference of 1-2 characters
  only when the reply states it (its extracted answer or a quoted span): 水果 does not
  contain 水, and neither does 不是水，是油;
- char_f1: character F1 of the stated answer against the best accepted form.
A reply listing several guesses scores 0 on exact_match and contains.

>>> exact_match("“多此一举。”", "多此一举")
True
>>> exact_match("装相", "装象（相）")
True
>>> contains("谜底是圣诞老人，因为他只在平安夜工作。", "聖誕老人")
True
>>> contains("水果", "水")
False
>>> round(char_f1("圣诞老头", "圣诞老人"), 2)
0.75
"""

from __future__ import annotations

from collections import Counter

from curate.evaluation.answers import Reading, read_reply, reference_keys

SHORT = 2  # references this long (in key characters) count as contained only when stated


def exact_match(reply: str, reference: str) -> bool:
    """The reply, or the answer it states, is one form the reference accepts.

    >>> exact_match("答：多此一举吧", "多此一举")
    True
    >>> exact_match("不是多此一举", "多此一举")
    False
    """
    return _exact(read_reply(reply), reference_keys(reference))


def _exact(reading: Reading, keys: list[str]) -> bool:
    if reading.whole in keys:  # the reply is the reference, in any accepted form
        return True
    return not reading.guesses and any(c in keys for c in reading.candidates)


def contains(reply: str, reference: str) -> bool:
    """The reply gives the answer, possibly inside a longer explanation (see the module doc).

    >>> contains("我猜是：自讨苦吃！", "自讨苦吃")
    True
    >>> contains("是“水”。", "水")
    True
    >>> contains("可能是水，也可能是油", "水")
    False
    """
    return _contains(read_reply(reply), reference_keys(reference))


def _contains(reading: Reading, keys: list[str]) -> bool:
    if _exact(reading, keys):
        return True
    if reading.guesses:
        return False
    for key in keys:
        if len(key) <= SHORT:
            if key in reading.candidates or key in reading.quoted:
                return True
        elif key in reading.whole:
            return True
    return False


def char_f1(reply: str, reference: str) -> float:
    """Character F1 (bag of characters, as SQuAD's token F1) of the stated answer, best form.

    Precision = shared characters / answer length, recall = shared / reference length.

    >>> char_f1("多此一举", "多此一举")
    1.0
    >>> char_f1("画蛇添足", "多此一举")
    0.0
    >>> round(char_f1("这是多此一举啊", "多此一举"), 3)
    1.0
    """
    return _char_f1(read_reply(reply), reference_keys(reference))


def _char_f1(reading: Reading, keys: list[str]) -> float:
    answers = [reading.whole] if reading.guesses else [reading.whole, *reading.candidates]
    return max((_f1(a, k) for a in answers for k in keys), default=0.0)


def _f1(prediction: str, reference: str) -> float:
    common = sum((Counter(prediction) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(reference)
    return 2 * precision * recall / (precision + recall)


METRICS = ("exact_match", "contains", "char_f1")
RATES = ("exact_match", "contains")  # yes/no metrics: a rate with an interval


def score(reply: str, reference: str) -> dict[str, float]:
    """All metrics of one reply, as floats (1.0 / 0.0 for the yes/no ones)."""
    reading, keys = read_reply(reply), reference_keys(reference)
    return {
        "exact_match": float(_exact(reading, keys)),
        "contains": float(_contains(reading, keys)),
        "char_f1": _char_f1(reading, keys),
    }


def extracted(reply: str) -> str:
    """The answer the reply states (display text), as shown in eval.md."""
    return read_reply(reply).answer
