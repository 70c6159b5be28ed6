"""Map one input record (a dict from any reader) to question, answer, category and meta.

Field names are matched case-insensitively against alias lists; the first alias present wins.
Numbers (not booleans) given as a question or answer are coerced to text with `str()`
(`1` -> `"1"`, `2.5` -> `"2.5"`, a Parquet decimal `1.50` -> `"1.50"`); NaN and infinities
are rejected as `not_a_number`, lists, objects and booleans as `non_string_field`.

>>> to_fields({"instruction": "猜一字", "input": "一口咬掉牛尾巴", "output": "告", "id": 7})
Fields(question='猜一字：一口咬掉牛尾巴', answer='告', category=None, meta='{"id": 7}')
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

QUESTION_KEYS = (
    "question",
    "instruction",
    "prompt",
    "riddle",
    "query",
    "puzzle",
    "问题",
    "题目",
    "谜面",
    "谜题",
    "问",
    "题",
    # the same in traditional characters (Big5 files, Taiwan/Hong Kong sources)
    "問題",
    "題目",
    "謎面",
    "謎題",
    "問",
    "題",
    # a single letter last: in a quiz, columns A-D are the options, 答案 the answer
    "q",
)
ANSWER_KEYS = (
    "answer",
    "output",
    "response",
    "completion",
    "target",
    "solution",
    "答案",
    "谜底",
    "答",
    "回答",
    "解答",
    "謎底",
    "a",
)
CATEGORY_KEYS = ("category", "type", "类别", "分类", "类型", "類別", "分類", "類型")
# Every field name this module knows (lowercased): a CSV row holding none is not a header.
KNOWN_NAMES = frozenset(
    QUESTION_KEYS + ANSWER_KEYS + CATEGORY_KEYS + ("input", "messages", "conversations")
)
# sharegpt's speaker names, mapped to OpenAI message roles.
_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
}

Verdict = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Fields:
    question: str
    answer: str
    category: str | None
    meta: str


@cache
def _rank(aliases: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(aliases)}


def _find(lowered: dict[str, str], override: str | None, aliases: tuple[str, ...]) -> str | None:
    """The original key to use: the override if given, else the first alias present."""
    if override:
        return lowered.get(override.strip().lower())
    rank = _rank(aliases)
    present = [name for name in lowered if name in rank]  # records have few keys: scan those
    return lowered[min(present, key=rank.__getitem__)] if present else None


def _text(value: object, what: str, key: str) -> str | Verdict:
    if isinstance(value, str):
        return value
    if value is None:
        return ("missing_field", f"{what} field {key!r} is null")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if not math.isfinite(value):  # NaN / Infinity in JSON, NaN in Parquet
            return ("not_a_number", f"{what} field {key!r} is {value}, not text or a number")
        return str(value)
    kind = type(value).__name__
    return ("non_string_field", f"{what} field {key!r} is a {kind}, not text")


def _meta(obj: dict, used: set[str], extra: dict | None = None) -> str:
    meta = {k: v for k, v in obj.items() if k not in used}
    meta.update(extra or {})
    text = json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str)
    if "NaN" in text or "Infinity" in text:  # rare: look closer only then
        text = json.dumps(_finite(meta), ensure_ascii=False, sort_keys=True, default=str)
    return text


def _finite(value: object) -> object:
    """NaN and infinities as null: JSON has no such numbers (json.dumps would write a bare
    `NaN` that strict parsers refuse), and in Parquet from pandas NaN is a missing value."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def to_fields(
    obj: object, question_field: str | None = None, answer_field: str | None = None
) -> Fields | Verdict:
    """Fields of one record, or (reason, detail) when it cannot be mapped."""
    if not isinstance(obj, dict):
        return ("not_an_object", f"a JSON {type(obj).__name__}, not an object")
    lowered = {str(k).strip().lower(): k for k in reversed(list(obj))}
    qkey = _find(lowered, question_field, QUESTION_KEYS)
    akey = _find(lowered, answer_field, ANSWER_KEYS)
    ckey = _find(lowered, None, CATEGORY_KEYS)
    if qkey is None and akey is None and not (question_field or answer_field):
        convo = _find(lowered, None, ("messages", "conversations"))
        if convo is not None:
            return _from_messages(obj, convo, ckey)
    if qkey is None and "input" in lowered and not question_field:
        qkey = lowered["input"]  # input/output pairs without an instruction
    missing = [what for what, key in (("question", qkey), ("answer", akey)) if key is None]
    if missing:
        wanted = {"question": question_field, "answer": answer_field}
        named = ", ".join(f"{m} ({wanted[m]!r})" if wanted[m] else m for m in missing)
        return ("missing_field", f"no {named} field among: {', '.join(map(str, obj)) or 'none'}")
    question = _text(obj[qkey], "question", qkey)
    answer = _text(obj[akey], "answer", akey)
    for value in (question, answer):
        if isinstance(value, tuple):
            return value
    used = {qkey, akey, ckey}
    extra_input = lowered.get("input")
    if extra_input is not None and extra_input != qkey and lowered.get("instruction") == qkey:
        value = obj[extra_input]
        if isinstance(value, str) and value.strip():
            question = join_input(question, value)
        used.add(extra_input)
    return Fields(question, answer, _category(obj, ckey), _meta(obj, used))


def join_input(instruction: str, extra: str) -> str:
    """Alpaca's input completes the instruction: `猜一字` + `十张口` -> `猜一字：十张口`.

    A newline would vanish in the display text (whitespace is collapsed and dropped between
    Chinese characters), so an instruction ending in a letter gets a colon instead.
    """
    last = instruction.rstrip()[-1:]
    if not last or not (last.isalnum()):
        return f"{instruction}\n{extra}"
    return f"{instruction.rstrip()}{'：' if ord(last) >= 0x2E80 else ': '}{extra}"


def _category(obj: dict, key: str | None) -> str | None:
    value = obj.get(key) if key is not None else None
    if value is None or isinstance(value, (list, dict)):
        return None
    return str(value)


def _from_messages(obj: dict, key: str, ckey: str | None) -> Fields | Verdict:
    """One optional system message, then exactly one user and one assistant message."""
    turns = obj[key]
    if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
        return ("bad_messages", f"{key!r} is not a list of message objects")
    pairs = []
    for turn in turns:
        role = _ROLES.get(str(turn.get("role", turn.get("from", ""))).lower())
        content = turn.get("content", turn.get("value"))
        if role is None or not isinstance(content, str):
            return ("bad_messages", f"a message without a known role and text content: {turn}")
        pairs.append((role, content))
    system = [c for r, c in pairs[:1] if r == "system"]
    rest = pairs[len(system) :]
    roles = [r for r, _ in rest]
    if len(rest) > 2 and roles == ["user", "assistant"] * (len(rest) // 2):
        return (
            "multi_turn",
            f"{len(rest) // 2} user/assistant pairs; only single-turn records are supported",
        )
    if roles != ["user", "assistant"]:
        return (
            "bad_messages",
            f"roles {roles}; expected an optional system message, "
            "then one user and one assistant message",
        )
    extra = {"system": system[0]} if system else None
    used = {key, ckey}
    return Fields(rest[0][1], rest[1][1], _category(obj, ckey), _meta(obj, used, extra))
