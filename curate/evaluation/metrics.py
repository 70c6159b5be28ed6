"""Answer metrics for `curate eval`: pure functions of (response, reference) -> score.

Both texts are compared by their *answer key*: the ingest display text (NFC, OpenCC t2s,
HTML and invisible characters gone) and then the dedupe match key (punctuation, quotes,
symbols and spaces removed, widths folded, Latin lowercased). Traditional and simplified
spellings, quotes around the answer and a trailing full stop therefore never matter.

Several alternatives: a reference such as the 歇后语 answer "坏到一块了；冤家路窄" lists
alternatives separated by "；" (or ";"). A response that matches *any* alternative, or the
whole reference, scores as a match; char_f1 takes the best alternative.

>>> exact_match("“多此一举。”", "多此一举")
True
>>> exact_match("冤家路窄", "坏到一块了；冤家路窄")
True
>>> contains("谜底是圣诞老人，因为他只在平安夜工作。", "聖誕老人")
True
>>> round(char_f1("圣诞老头", "圣诞老人"), 2)
0.75
"""

from __future__ import annotations

import re
from collections import Counter

from curate.normalize import display, match_key

# Alternatives inside one reference answer (xiehouyu: "坏到一块了；冤家路窄").
_ALTERNATIVES = re.compile(r"[；;]")
# Reasoning models (Qwen3, DeepSeek-R1) may put their thinking before the answer.
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
# A leading answer label ("答：", "谜底是", "Answer:") is framing, not the answer.
_LABEL = re.compile(r"^\s*(?:答案|谜底|答|answer)\s*(?:是|为|[:：])\s*", re.IGNORECASE)


def answer_key(text: str) -> str:
    """The key an answer is compared by: think block and answer label dropped, then match key.

    >>> answer_key("谜底：《紅樓夢》。")
    '红楼梦'
    >>> answer_key("<think>想一想</think>Answer: Santa Claus!")
    'santaclaus'
    """
    text = display(_THINK.sub("", text))
    return match_key(_LABEL.sub("", text))


def reference_keys(reference: str) -> list[str]:
    """Keys of the whole reference and of each '；'-separated alternative, empties dropped.

    >>> reference_keys("坏到一块了；冤家路窄")
    ['坏到一块了冤家路窄', '坏到一块了', '冤家路窄']
    >>> reference_keys("多此一举")
    ['多此一举']
    """
    text = display(reference)
    keys = [match_key(text)]
    keys += [match_key(part) for part in _ALTERNATIVES.split(text)]
    unique = list(dict.fromkeys(k for k in keys if k))
    return unique


def exact_match(response: str, reference: str) -> bool:
    """The response's answer key equals the key of the reference or one of its alternatives.

    >>> exact_match("答：多此一举", "多此一举")
    True
    >>> exact_match("多此一举吧", "多此一举")
    False
    """
    key = answer_key(response)
    return bool(key) and key in reference_keys(reference)


def contains(response: str, reference: str) -> bool:
    """The key of the reference (or one alternative) appears inside the response's key.

    >>> contains("我猜是：自讨苦吃！", "自讨苦吃")
    True
    >>> contains("不知道", "自讨苦吃")
    False
    """
    key = answer_key(response)
    return any(ref in key for ref in reference_keys(reference))


def char_f1(response: str, reference: str) -> float:
    """Character-level F1 of the keys (bag of characters, as SQuAD's token F1), best alternative.

    Precision = shared characters / response length, recall = shared / reference length.

    >>> char_f1("多此一举", "多此一举")
    1.0
    >>> char_f1("画蛇添足", "多此一举")
    0.0
    >>> round(char_f1("这是多此一举", "多此一举"), 3)
    0.8
    """
    key = answer_key(response)
    return max((_f1(key, ref) for ref in reference_keys(reference)), default=0.0)


def _f1(prediction: str, reference: str) -> float:
    common = sum((Counter(prediction) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(reference)
    return 2 * precision * recall / (precision + recall)


METRICS = {"exact_match": exact_match, "contains": contains, "char_f1": char_f1}


def score(response: str, reference: str) -> dict[str, float]:
    """All metrics of one response, as floats (1.0 / 0.0 for the yes/no ones)."""
    return {name: float(fn(response, reference)) for name, fn in METRICS.items()}
