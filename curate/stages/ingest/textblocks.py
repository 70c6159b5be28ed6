"""Plain-text riddle files: blocks of `问：…` / `答：…` lines (also 题目/答案, 谜面/谜底, Q:/A:,
`【谜面】…`, and both on one line), and 歇后语 lines `前半句——后半句`.

Each block becomes a dict keyed by the markers as written (`{"问": ..., "答": ...}`), which
fields.py maps like any other record; its line number is the block's first line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from curate.stages.ingest.fields import ANSWER_KEYS, CATEGORY_KEYS, QUESTION_KEYS
from curate.stages.ingest.raw import RawRecord

_TEXT_KEYS = "|".join(
    sorted(map(re.escape, QUESTION_KEYS + ANSWER_KEYS + CATEGORY_KEYS), key=len, reverse=True)
)
# `问：...`, `Q: ...`, `1. 谜面：...`; the colon may be ASCII or full-width.
QA_LINE = re.compile(rf"^\s*(?:\d{{1,5}}\s*[.、．)）]\s*)?({_TEXT_KEYS})\s*[:：]\s*(.*)$", re.I)
# An answer on the same line as its question: `问：…？ 答：…`, `谜面：…（打一字）谜底：…`.
_INLINE_ANSWER = re.compile(
    r"(?:(?<=[\s？?！!。.，,；;）)」』])|^)(答案|谜底|謎底|答|A)\s*[:：]\s*"
)
# A marker in brackets instead of before a colon: `【谜面】…【谜底】…`.
_BRACKETED = re.compile(rf"【\s*({_TEXT_KEYS})\s*】\s*[:：]?\s*", re.I)
# A note in a block (`答：水` then `解释：…`): its own field, so it lands in `meta`, not run
# into the answer as a continuation line (`水解释：…`).
NOTE_KEYS = ("解释", "注释", "注", "提示", "出处", "来源", "备注", "分析", "说明", "解析", "释义")
NOTE_KEYS += ("典故", "拼音", "难度", "hint", "note", "notes", "explanation", "source")
_NOTE_LINE = re.compile(rf"^\s*({'|'.join(NOTE_KEYS)})\s*[:：]\s*(.*)$", re.I)
# A 歇后语 on one line: `泥菩萨过江——自身难保` (em dashes, box-drawing or ASCII lookalikes).
_DASH_PAIR = re.compile(r"^\s*(\S.*?)\s*(?:——|──|—|--)\s*(\S.*?)\s*$")


def _role(key: str) -> str:
    key = key.lower()
    return "q" if key in QUESTION_KEYS else "a" if key in ANSWER_KEYS else "c"


def read_text(text: str, path: Path) -> Iterator[RawRecord]:
    """Records of a text file (see `text_records`)."""
    return text_records(iter(text.split("\n")), path)


def text_records(lines: Iterator[str], path: Path) -> Iterator[RawRecord]:
    """Q&A blocks: a question line, an answer line, optional category line; `#` = comment.

    Outside a block, a line `前半句——后半句` is one record (the usual way to list 歇后语).

    A block ends at a blank line (unless the answer line comes next: double-spaced files)
    or when a field it already has starts again; a note line
    (`解释：…`, NOTE_KEYS) is a field of its own; lines without a key continue the previous
    field; stray lines outside any block become `unparsed_text`.
    `lines`: the text split at "\n" (read lazily, so a file can be read in chunks).
    """
    block: list[tuple[int, str]] = []  # (line number, line) of the open block
    fields: dict[str, tuple[str, str]] = {}  # role -> (original key, text)
    last = ""
    gap = False  # blank lines after a question still waiting for its answer
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r")
        bare = line.lstrip("\ufeff")  # a BOM mid-file: files joined with `cat`
        match = QA_LINE.match(_BRACKETED.sub(r" \1：", bare) if "【" in bare else bare)
        if match is None and line.lstrip().startswith("#"):
            continue
        if not line.strip():
            gap = list(fields) == ["q"]  # double-spaced files: `问：…`, blank, `答：…`
            if not gap:
                yield from _close(block, fields)
                block, fields, last = [], {}, ""
            continue
        if gap and not (match and _role(match.group(1)) == "a"):
            yield from _close(block, fields)
            block, fields, last = [], {}, ""
        gap = False
        note = _NOTE_LINE.match(bare) if match is None and fields else None
        if note:
            block.append((number, line))
            last = f"note:{note.group(1).lower()}"
            fields[last] = (note.group(1), note.group(2).strip())
            continue
        pair = _DASH_PAIR.match(bare) if match is None and not fields else None
        if pair:
            yield from _close(block, fields)
            block = []
            yield RawRecord(number, line, {"question": pair.group(1), "answer": pair.group(2)})
            continue
        if match is None:
            if block and not fields:  # a run of stray lines: one unparsed record
                block.append((number, line))
            elif block:
                key, value = fields[last]
                fields[last] = (key, f"{value}\n{line.strip()}")
                block.append((number, line))
            else:
                block = [(number, line)]
            continue
        role = _role(match.group(1))
        if role in fields or (block and not fields):
            yield from _close(block, fields)
            block, fields = [], {}
        block.append((number, line))
        fields[role], last = (match.group(1), match.group(2).strip()), role
        inline = _INLINE_ANSWER.search(match.group(2)) if role == "q" else None
        if inline and "a" not in fields:
            question = match.group(2)[: inline.start()].strip().rstrip("，,；;").rstrip()
            fields["q"] = (match.group(1), question)
            fields["a"], last = (inline.group(1), match.group(2)[inline.end() :].strip()), "a"
    yield from _close(block, fields)


def _close(block: list[tuple[int, str]], fields: dict[str, tuple[str, str]]) -> Iterator[RawRecord]:
    if not block:
        return
    raw = "\n".join(line for _, line in block)
    if not fields:
        yield RawRecord(
            block[0][0],
            raw,
            None,
            ("unparsed_text", "neither 问：/答： (Q:/A:) lines nor 前半句——后半句"),
        )
    else:
        yield RawRecord(block[0][0], raw, {key: value for key, value in fields.values()})
