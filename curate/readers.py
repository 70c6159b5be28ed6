"""Readers: one input file -> raw records, each with its source, 1-based line and raw text.

Formats: JSON array, JSON object wrapping a list of records, JSONL, CSV, TSV, text Q&A blocks,
Parquet, and `.gz` of any of them; chosen by extension, then by content when the extension is
unknown or lies (a `.json` file holding JSON lines). Line numbers: JSONL -> the line; JSON
array -> the line where the element starts; CSV/TSV -> the line where the data row starts
(header = line 1 unless blank lines come first); text -> a block's first line; Parquet -> the
1-based row index. Records are not interpreted here (see fields.py), only parsed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from curate.encodings import decode
from curate.errors import InputError
from curate.fields import ANSWER_KEYS, CATEGORY_KEYS, QUESTION_KEYS

EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "text",
    ".text": "text",
    ".parquet": "parquet",
}
FORMATS = ("json", "jsonl", "csv", "tsv", "text", "parquet")
# Keys of a JSON object that are lists of records, in order of preference when several are.
WRAPPER_KEYS = ("data", "records", "items", "rows", "examples", "train", "riddles", "questions")


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One input record: `value` is the parsed dict, or None with `error` = (reason, detail)."""

    line: int
    raw: str
    value: object = None
    error: tuple[str, str] | None = None


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str
    encoding: str | None
    records: list[RawRecord]


def input_format(path: Path) -> str | None:
    """Format named by the extension (`.gz` looked through), or None when unknown."""
    suffixes = path.suffixes[-2:] if path.suffix.lower() == ".gz" else path.suffixes[-1:]
    return EXTENSIONS.get(suffixes[0].lower()) if suffixes else None


def find_inputs(sources: tuple[Path, ...] | list[Path]) -> list[Path]:
    """Files to read: files as given, folders searched recursively for known extensions."""
    found: dict[Path, Path] = {}
    for source in sources:
        if source.is_dir():
            files = sorted(
                p
                for p in source.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(source).parts)
                and input_format(p)
            )
        elif source.is_file():
            files = [source]
        else:
            raise InputError(f"{source}: no such file or directory")
        for path in files:
            found.setdefault(path.resolve(), path)
    if not found:
        shown = ", ".join(str(s) for s in sources)
        raise InputError(
            f"no input files in {shown} (looked for {', '.join(EXTENSIONS)}, "
            "and .gz of those); pass files or folders as arguments"
        )
    return list(found.values())


def read_file(path: Path, encoding: str | None = None) -> SourceFile:
    """Read one input file into raw records; unreadable files raise InputError."""
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    fmt = input_format(path)
    if fmt == "parquet" or (fmt is None and data[:4] == b"PAR1"):
        return SourceFile(path, "parquet", None, list(read_parquet(data, path)))
    text, used = decode(data, str(path), encoding)
    text = text.removeprefix("\ufeff")
    fmt = sniff(text, fmt)
    reader = {
        "json": read_json,
        "jsonl": read_jsonl,
        "csv": read_csv,
        "tsv": read_tsv,
        "text": read_text,
    }[fmt]
    return SourceFile(path, fmt, used, list(reader(text, path)))


def sniff(text: str, fmt: str | None) -> str:
    """Check the extension against the content; guess when there is no extension."""
    first = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    if fmt in ("json", "jsonl", None) and first[:1] in ("[", "{"):
        if _parses(text):
            return "json"
        # Not one JSON document: JSON lines if the first line is a value on its own.
        return "jsonl" if fmt == "jsonl" or _parses(first) else "json"
    if fmt is not None:
        return fmt
    if "\t" in first:
        return "tsv"
    return "csv" if "," in first and not _QA_LINE.match(first) else "text"


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def _position(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line} column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def read_json(text: str, path: Path) -> Iterator[RawRecord]:
    """A JSON array of records, an object wrapping one, or a single record object."""
    decoder = json.JSONDecoder()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON at {_position(text, exc.pos)} ({exc.msg}); fix the file, "
            "or if it holds one JSON object per line, name it .jsonl"
        ) from None
    start = len(text) - len(text.lstrip())
    if isinstance(doc, dict):
        key = _wrapped_list(doc, path)
        if key is None:
            yield RawRecord(text.count("\n", 0, start) + 1, text.strip(), doc)
            return
        start = _value_start(text, decoder, key)
    # Walk the array element by element to know where each one starts.
    pos, line, counted = start + 1, 1, 0
    while True:
        pos = _skip(text, pos, ",")
        if text[pos] == "]":
            return
        value, end = decoder.raw_decode(text, pos)
        line += text.count("\n", counted, pos)
        counted = pos
        yield RawRecord(line, text[pos:end], value)
        pos = end


def _skip(text: str, pos: int, chars: str) -> int:
    while text[pos] in " \t\r\n" + chars:
        pos += 1
    return pos


def _wrapped_list(doc: dict, path: Path) -> str | None:
    """The key of a wrapper object's list of records, or None if `doc` is one record."""
    lists = [
        k
        for k, v in doc.items()
        if isinstance(v, list)
        and any(isinstance(x, dict) for x in v)
        and k not in ("messages", "conversations")
    ]
    if len(lists) <= 1:
        return lists[0] if lists else None
    preferred = [k for k in WRAPPER_KEYS if k in lists]
    if preferred:
        return preferred[0]
    raise InputError(
        f"{path}: several lists of records ({', '.join(lists)}); keep one list "
        'per file, e.g. {"data": [...]}'
    )


def _value_start(text: str, decoder: json.JSONDecoder, key: str) -> int:
    """Offset of the value of top-level `key` in a JSON object text."""
    pos = _skip(text, 0, "") + 1
    while True:
        pos = _skip(text, pos, ",")
        name, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos, ":")
        if name == key:
            return pos
        _, pos = decoder.raw_decode(text, pos)


def read_jsonl(text: str, path: Path) -> Iterator[RawRecord]:
    """One JSON value per line; a bad line becomes a `malformed_json` record, not an error."""
    for number, line in enumerate(io.StringIO(text), 1):
        raw = line.rstrip("\r\n")
        if not raw.strip():
            continue
        try:
            yield RawRecord(number, raw, json.loads(raw))
        except json.JSONDecodeError as exc:
            yield RawRecord(
                number, raw, None, ("malformed_json", f"{exc.msg} at column {exc.colno}")
            )


def read_csv(text: str, path: Path, delimiter: str = ",") -> Iterator[RawRecord]:
    """Header row, then one record per row; quoted fields may hold commas and newlines."""
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    header: list[str] | None = None
    done = 0  # physical lines consumed so far
    for row in reader:
        start, done = done + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        raw = "".join(lines[start - 1 : done]).rstrip("\r\n")
        if header is None:
            header = [h.strip() for h in row]
        elif len(row) > len(header):
            detail = f"{len(row)} fields but the header has {len(header)}"
            yield RawRecord(start, raw, None, ("malformed_row", detail))
        else:
            yield RawRecord(
                start, raw, dict(zip(header, row + [""] * (len(header) - len(row)), strict=True))
            )


def read_tsv(text: str, path: Path) -> Iterator[RawRecord]:
    return read_csv(text, path, delimiter="\t")


_TEXT_KEYS = "|".join(
    sorted(map(re.escape, QUESTION_KEYS + ANSWER_KEYS + CATEGORY_KEYS), key=len, reverse=True)
)
# `问：...`, `Q: ...`, `1. 谜面：...`; the colon may be ASCII or full-width.
_QA_LINE = re.compile(rf"^\s*(?:\d{{1,5}}\s*[.、．)）]\s*)?({_TEXT_KEYS})\s*[:：]\s*(.*)$", re.I)
# An answer on the same line as its question: `问：…？ 答：…`.
_INLINE_ANSWER = re.compile(r"(?:(?<=[\s？?！!。.])|^)(答案|谜底|答|A)\s*[:：]\s*")


def _role(key: str) -> str:
    key = key.lower()
    return "q" if key in QUESTION_KEYS else "a" if key in ANSWER_KEYS else "c"


def read_text(text: str, path: Path) -> Iterator[RawRecord]:
    """Q&A blocks: a question line, an answer line, optional category line; `#` = comment.

    A block ends at a blank line or when a field it already has starts again; lines without
    a key continue the previous field; stray lines outside any block become `unparsed_text`.
    """
    block: list[tuple[int, str]] = []  # (line number, line) of the open block
    fields: dict[str, tuple[str, str]] = {}  # role -> (original key, text)
    last = ""
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        match = _QA_LINE.match(line)
        if match is None and line.lstrip().startswith("#"):
            continue
        if not line.strip():
            yield from _close(block, fields)
            block, fields, last = [], {}, ""
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
            fields["q"] = (match.group(1), match.group(2)[: inline.start()].strip())
            fields["a"], last = (inline.group(1), match.group(2)[inline.end() :].strip()), "a"
    yield from _close(block, fields)


def _close(block: list[tuple[int, str]], fields: dict[str, tuple[str, str]]) -> Iterator[RawRecord]:
    if not block:
        return
    raw = "\n".join(line for _, line in block)
    if not fields:
        yield RawRecord(
            block[0][0], raw, None, ("unparsed_text", "no 问：/答： (or Q:/A:) line in this block")
        )
    else:
        yield RawRecord(block[0][0], raw, {key: value for key, value in fields.values()})


def read_parquet(data: bytes, path: Path) -> Iterator[RawRecord]:
    import polars as pl

    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises several types for corrupt files
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    for number, row in enumerate(frame.iter_rows(named=True), 1):
        yield RawRecord(number, json.dumps(row, ensure_ascii=False, default=str), row)
