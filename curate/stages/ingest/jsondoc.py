"""JSON documents and JSON lines: one input text -> raw records (readers.py picks the reader).

A document is an array of records, an object wrapping lists of records (nested objects too),
a table (tables.py), one record, or several values one after another (jq's output). A JSON
line is one record (an array of records on a line: one per element); a broken line is a
`malformed_json` record, not an error.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from curate.errors import InputError
from curate.stages.ingest.fields import ANSWER_KEYS, QUESTION_KEYS
from curate.stages.ingest.raw import RawRecord
from curate.stages.ingest.tables import table_records

# Levels of wrapper objects searched for lists of records (`{"data": {"data": [...]}}` is 2).
WRAPPER_DEPTH = 4
_TOO_DEEP = "nested too deeply"  # past Python's recursion limit (about 1000 levels)
_BETWEEN = re.compile(r"[ \t\r\n\ufeff]*")  # between JSON values one after another


def loads(text: str):
    """json.loads, with nesting too deep for Python's parser (`[[[[...`) reported as bad JSON
    rather than a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError(_TOO_DEEP, text, 0) from None


def _raw_decode(decoder: json.JSONDecoder, text: str, pos: int):
    try:
        return decoder.raw_decode(text, pos)
    except RecursionError:
        raise json.JSONDecodeError(_TOO_DEEP, text, pos) from None


def parses(text: str) -> bool:
    try:
        loads(text)
    except json.JSONDecodeError:
        return False
    return True


def _json_error(exc: json.JSONDecodeError) -> str:
    """json's message without its dangling `at` ("Invalid control character at"), saying
    which character when it is a literal tab or line break inside a string."""
    msg = exc.msg.removesuffix(" at")
    if msg == "Invalid control character":
        char = exc.doc[exc.pos : exc.pos + 1] or "\0"
        name = {"\t": "a literal tab", "\n": "a line break", "\r": "a carriage return"}
        what = name.get(char, f"control character U+{ord(char):04X}")
        msg = f"{what} inside a string (write it escaped: \\t, \\n)"
    return msg


def read_json(text: str, path: Path) -> Iterator[RawRecord]:
    """A JSON array of records, an object wrapping lists of records, a table (tables.py), one
    record object, or several JSON values one after another (jq's output).

    Every list of records in a wrapper object is read (a duplicated key too, and lists in
    nested wrapper objects); when there are several, each record gets its list's key (path:
    `data.train`) as field `list` (so it lands in `meta`).
    """
    decoder = json.JSONDecoder()
    try:
        doc = loads(text)
    except json.JSONDecodeError as exc:
        docs = documents(text, decoder) if exc.msg == "Extra data" else None
        if docs is not None:
            yield from _document_records(text, docs, decoder)
            return
        raise InputError(
            f"{path}: not valid JSON at line {exc.lineno} column {exc.colno} "
            f"({_json_error(exc)}); fix the file, "
            "or if it holds one JSON object per line, name it .jsonl"
        ) from None
    start = len(text) - len(text.lstrip())
    if isinstance(doc, list):
        yield from _elements(text, start, decoder)[0]
        return
    table = table_records(doc, text.count("\n", 0, start) + 1, _one_record)
    if table is not None:  # pandas' to_json of a DataFrame
        yield from table
        return
    # An object with a question and an answer is one record, even if it holds a list of objects.
    wrapper = isinstance(doc, dict) and not _one_record(doc)
    lists = _record_lists(text, start, decoder) if wrapper else []
    if not lists and wrapper and _holds_no_records(doc):
        return  # `{}`, `{"data": []}`: no records (ingest warns of a file with none)
    if not lists:  # one record (or one stray value)
        yield RawRecord(text.count("\n", 0, start) + 1, text.strip(), doc)
        return
    for key, records in lists:
        for rec in records:
            if len(lists) > 1 and isinstance(rec.value, dict) and "list" not in rec.value:
                rec = replace(rec, value={**rec.value, "list": key})
            yield rec


def documents(text: str, decoder: json.JSONDecoder) -> list[tuple[int, int, object]] | None:
    """(start, end, value) of each JSON value of a text holding several one after another
    (`jq` writes records so, each pretty-printed over several lines); None when the text is
    not such a sequence."""
    out, pos = [], _BETWEEN.match(text).end()
    while pos < len(text):
        try:
            value, end = _raw_decode(decoder, text, pos)
        except json.JSONDecodeError:
            return None
        out.append((pos, end, value))
        pos = _BETWEEN.match(text, end).end()
    return out if len(out) > 1 else None


def _document_records(
    text: str, docs: list[tuple[int, int, object]], decoder: json.JSONDecoder
) -> Iterator[RawRecord]:
    """Records of a sequence of JSON values: an array's elements, any other value one record."""
    line, counted = 1, 0
    for start, end, value in docs:
        if isinstance(value, list):
            yield from _elements(text, start, decoder)[0]
            continue
        line += text.count("\n", counted, start)
        counted = start
        yield RawRecord(line, text[start:end], value)


def _one_record(doc: dict) -> bool:
    names = {str(k).strip().lower() for k in doc}
    return bool(names & set(QUESTION_KEYS)) and bool(names & set(ANSWER_KEYS))


def _elements(text: str, pos: int, decoder: json.JSONDecoder) -> tuple[list[RawRecord], int]:
    """The elements of the array starting at `pos` (with the line each starts on), and the
    offset after the array."""
    out: list[RawRecord] = []
    line, counted = text.count("\n", 0, pos) + 1, pos
    pos += 1
    while True:
        pos = _skip(text, pos, ",")
        if text[pos] == "]":
            return out, pos + 1
        value, end = _raw_decode(decoder, text, pos)
        line += text.count("\n", counted, pos)
        counted = pos
        out.append(RawRecord(line, text[pos:end], value))
        pos = end


def _holds_no_records(doc: dict, depth: int = 1) -> bool:
    """An empty object, or a wrapper with an empty list of records (`{"data": []}`, nested
    ones too, down to WRAPPER_DEPTH levels): a file of no records, not one bad record."""
    if not doc:
        return True
    for key, value in doc.items():
        if value == [] and key not in ("messages", "conversations"):
            return True
        inner = isinstance(value, dict) and value and not _one_record(value)
        if inner and depth < WRAPPER_DEPTH and _holds_no_records(value, depth + 1):
            return True
    return False


def _skip(text: str, pos: int, chars: str) -> int:
    while text[pos] in " \t\r\n" + chars:
        pos += 1
    return pos


def _record_lists(
    text: str, pos: int, decoder: json.JSONDecoder, prefix: str = "", depth: int = 1
) -> list[tuple[str, list[RawRecord]]]:
    """(key, records) of each member of the object at `pos` that is a list holding objects,
    in file order; a key given twice gives two lists (json.loads would keep the last). When
    there is none, the object members that are not records themselves are searched
    (`{"data": {"train": [...]}}`), their lists keyed by path (`data.train`), down to
    WRAPPER_DEPTH levels."""
    out, inner = [], []
    pos += 1
    while True:
        pos = _skip(text, pos, ",")
        if text[pos] == "}":
            break
        name, pos = _raw_decode(decoder, text, pos)
        pos = _skip(text, pos, ":")
        key = f"{prefix}{name}"
        if text[pos] == "[" and name not in ("messages", "conversations"):
            records, pos = _elements(text, pos, decoder)
            if any(isinstance(r.value, dict) for r in records):
                out.append((key, records))
        else:
            value, end = _raw_decode(decoder, text, pos)
            if isinstance(value, dict) and not _one_record(value) and depth < WRAPPER_DEPTH:
                inner.append((key, pos))
            pos = end
    for key, at in inner if not out else []:  # `{"schema": {...}, "data": [...]}`: data only
        out += _record_lists(text, at, decoder, f"{key}.", depth + 1)
    return out


def read_jsonl(text: str, path: Path) -> Iterator[RawRecord]:
    """One JSON value per line; a bad line becomes a `malformed_json` record, not an error.

    A line holding an array of records (objects among its elements, as a list of records in a
    wrapper object) gives one record per element, each with the line's number (read_file then
    numbers the file's records by index, as for a minified array); an array with no object
    (`["竹篮打水", "一场空"]`) stays one record.
    """
    decoder = json.JSONDecoder()
    for number, line in enumerate(io.StringIO(text), 1):
        raw = line.rstrip("\r\n")
        if not raw.strip():
            continue
        try:
            value = _line_value(raw)
        except json.JSONDecodeError as exc:
            detail = f"{_json_error(exc)} at column {exc.colno}"
            yield RawRecord(number, raw, None, ("malformed_json", detail))
            continue
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):
            elements = _elements(raw, raw.index("["), decoder)[0]
            yield from (replace(rec, line=number) for rec in elements)
        else:
            yield RawRecord(number, raw, value)


def _line_value(raw: str):
    """The value of one JSON line, forgiving what a record written by hand or by a careless
    script often looks like: a BOM (files joined with `cat`), a trailing comma (an array's
    elements, brackets gone), a record encoded twice (`"{\\"q\\": ...}"`)."""
    text = raw.lstrip("\ufeff")
    try:
        value = loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data" or text[exc.pos :].strip() != ",":
            raise
        value = loads(text[: exc.pos])
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            inner = loads(value)
        except json.JSONDecodeError:
            return value
        return inner if isinstance(inner, dict) else value
    return value
