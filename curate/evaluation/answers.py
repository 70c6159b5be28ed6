"""What a riddle answer is: the forms a reference accepts, and the answer a reply states.

Everything is compared by the ingest match key (`curate.normalize`): NFC, traditional ->
simplified, HTML and invisible characters gone, punctuation, quotes and spaces removed,
widths folded, Latin lowercased.

Reference side (`reference_keys`): the whole reference, each listed alternative (A；B, A/B,
A或B) and, for a bracketed note, either side of it: a pun note replaces as many characters
before it as it has (装象（相） -> 装象, 装相; 劳（捞）神 -> 劳神, 捞神), a longer note may stand
alone (心（心比天高） -> 心, 心比天高), and a gloss (比喻…, or with punctuation inside) is only
dropped.

Reply side (`read_reply`): the text after an answer label (谜底是, 答案：, 答：, Answer:), else
the whole reply; from it the first sentence and first clause, with a leading 是 / 我觉得是 /
这叫 and trailing particles (吧, 啊, ...) dropped (and 字 after one character: 米字 -> 米);
and the quoted spans (「」“”『』《》).
A reply that lists several guesses (水、油 / 可能是水，也可能是油 / 水还是油) states no answer.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from curate.normalize import display, match_key

# -- reference side ------------------------------------------------------------------------

_NOTE = re.compile(r"[（(]([^（）()]*)[）)]")
# A note that explains rather than respells: punctuation inside, or a dictionary-style opener.
_GLOSS = re.compile(r"^(?:比喻|形容|指|意思|意为|即|谐音|说明|表示)|[，,。；;、：:！？!?]")
# Separators of listed alternatives; 或 but not 或许 (perhaps), and never inside a note.
_ALTERNATIVE = re.compile(r"[；;/／]|或者|或(?!许)")
_MAX_NOTES = 3  # every combination of up to 3 notes (8 forms); beyond, all-or-none only


def reference_keys(reference: str) -> list[str]:
    """Match keys of every form the reference accepts, the whole reference first.

    >>> reference_keys("装象（相）")
    ['装象相', '装象', '装相']
    >>> reference_keys("坏到一块了；冤家路窄")
    ['坏到一块了冤家路窄', '坏到一块了', '冤家路窄']
    >>> reference_keys("心（心比天高）")
    ['心心比天高', '心', '心比天高']
    """
    text = display(reference)
    forms = [text]
    for part in alternatives(text):
        forms += note_forms(part)
    return list(dict.fromkeys(k for k in map(match_key, forms) if k))


def alternatives(text: str) -> list[str]:
    """The parts of a reference listing alternatives (outside notes), or [text].

    >>> alternatives("装象/装相")
    ['装象', '装相']
    >>> alternatives("或多或少")
    ['或多或少']
    """
    # Blank out notes so that a 或 or ； inside a gloss is not a separator.
    masked = _NOTE.sub(lambda m: "\0" * len(m.group()), text)
    cuts = [m.span() for m in _ALTERNATIVE.finditer(masked)]
    if not cuts:
        return [text]
    bounds = [0, *itertools.chain.from_iterable(cuts), len(text)]
    parts = [text[a:b].strip() for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
    return parts if all(match_key(p) for p in parts) else [text]


def note_forms(part: str) -> list[str]:
    """The part with each bracketed note either dropped or put in place of the text it notes.

    >>> note_forms("亲（青）上加亲（青）")
    ['亲上加亲', '亲上加青', '青上加亲', '青上加青']
    >>> note_forms("小题大作（比喻把小事当作大事来对待、处理。）")
    ['小题大作']
    """
    notes = list(_NOTE.finditer(part))
    if not notes:
        return [part]
    if _NOTE.sub("", part) != (bare := _drop_nested(part)):
        return [bare]  # a note inside a note (a gloss of a gloss): only drop them
    pieces, start = [], 0  # (text before the note, [its options]) per note
    for m in notes:
        before, note = part[start : m.start()], m.group(1).strip()
        options = [before]
        if note and not _GLOSS.search(note):
            keep = max(len(before) - len(note), 0)
            options.append(before[:keep] + note)
        pieces.append(options)
        start = m.end()
    tail = part[start:]
    if len(pieces) <= _MAX_NOTES:
        combos = itertools.product(*pieces)
    else:
        combos = [[p[0] for p in pieces], [p[-1] for p in pieces]]
    return list(dict.fromkeys("".join(c) + tail for c in combos))


def _drop_nested(text: str) -> str:
    while (shorter := _NOTE.sub("", text)) != text:
        text = shorter
    return text


# -- reply side ----------------------------------------------------------------------------

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_LABEL = re.compile(
    r"(?:谜底|答案)\s*(?:应该|可能|大概|就|其实)?\s*(?:是|为|[:：])|(?:^|\n)\s*答\s*[:：]"
    r"|answer\s*(?:is\b|[:：])",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?:\s|$)")
_CLAUSE_END = re.compile(r"[。！？!?\n，,；;：:（(]|\.(?:\s|$)")
_QUOTED = re.compile(r"[「“『\"《]([^」”』\"》\n]{1,30})[」”』\"》]")
# Said before an answer ("是", "我觉得是", "应该就是", "这叫"), matched on the key.
_LEAD = re.compile(r"^(?:我(?:觉得|猜|认为|想)|应该|可能|大概|也许|这|那|它)?(?:就|应该)?(?:是|叫)")
_PARTICLES = "吧啊呀呢哦嘛吗哈啦"
# Several guesses: a list, or "maybe A, maybe B"; 或者说 (in other words) is a rephrasing.
_GUESSES = re.compile(r"、|/|／|或者(?!说)|或是|还是|要么|也可能|又可能|还可能|(?<!许)或(?!许)")
_NEXT_GUESS = re.compile(r"^\s*(?:或者(?!说)|也可能|还可能|要么|还是|或是)")


@dataclass(frozen=True)
class Reading:
    """What a reply says: its key, the answer it states and the keys that answer may take."""

    whole: str  # match key of the reply (think block dropped)
    answer: str  # the extracted answer, display text (what eval.md shows)
    candidates: tuple[str, ...]  # keys of the stated answer, most specific last
    quoted: tuple[str, ...]  # keys of its quoted spans
    guesses: bool  # lists several answers: states none


def read_reply(reply: str) -> Reading:
    """The answer a reply states.

    >>> read_reply("谜底是“圣诞老人”，因为他只在平安夜工作。").answer
    '圣诞老人'
    >>> read_reply("可能是水，也可能是油").guesses
    True
    """
    body = display(_THINK.sub("", reply))
    label = _LABEL.search(body)
    rest = body[label.end() :] if label else body
    sentence = _upto(_SENTENCE_END, rest)
    clause = _upto(_CLAUSE_END, rest)
    candidates: list[str] = []
    for span in (sentence, clause):
        key = match_key(span)
        lead = _LEAD.sub("", key) or key
        candidates += [key, lead, key.rstrip(_PARTICLES), lead.rstrip(_PARTICLES)]
        if len(lead) == 2 and lead.endswith("字"):
            candidates.append(lead[0])  # a character riddle's "米字" states 米
    first = _QUOTED.match(rest.lstrip(" \t\n:："))
    if first:  # 谜底是“球门”：...: the quoted span right after the label is the answer
        candidates.append(match_key(first.group(1)))
    quoted = [match_key(q) for q in _QUOTED.findall(body)]
    # Two different quoted spans ("水"还是"油") point at no one answer.
    quoted = quoted if len(set(quoted)) == 1 else []
    after = rest[len(sentence) :].lstrip("。！？!?.\n ")
    guesses = bool(_GUESSES.search(sentence) or _NEXT_GUESS.match(after))
    shown = _strip_quotes(_LEAD.sub("", clause.strip()) or clause.strip())
    return Reading(
        match_key(body),
        shown,
        tuple(k for k in dict.fromkeys(candidates) if k),
        tuple(dict.fromkeys(quoted)),
        guesses,
    )


def _upto(end: re.Pattern, text: str) -> str:
    text = text.lstrip(" \t\n:：")
    m = end.search(text)
    return text[: m.start()] if m else text


def _strip_quotes(text: str) -> str:
    m = _QUOTED.fullmatch(text)
    return m.group(1) if m else text
