"""Readers: one input file -> raw records, each with its source, 1-based line and raw text.

Formats: JSON array, JSON object wrapping a list of records, JSONL, CSV, TSV, text Q&A blocks,
Parquet, and `.gz` of any of them; chosen by extension, then by content when the extension is
unknown or lies (a `.json` file holding JSON lines). Line numbers (1-based): JSONL -> the line;
JSON array -> the line where the element starts, or its index when several elements start on
one line (minified JSON; the manifest then says `"numbering": "index"`); CSV/TSV -> the line
where the data row starts; text -> a block's first line; Parquet -> the row number. Records are
not interpreted here (see fields.py), only parsed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from curate.errors import InputError
from curate.stages.ingest.encodings import decode
from curate.stages.ingest.raw import RawRecord, SourceFile
from curate.stages.ingest.textblocks import QA_LINE, read_text

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
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    fmt = input_format(path)
    if fmt == "parquet" or (fmt is None and data[:4] == b"PAR1"):
        return SourceFile(path, "parquet", None, list(read_parquet(data, path)), "row")
    text, used = decode(data, str(path), encoding)
    text = text.removeprefix("\ufeff")
    fmt = sniff(text, fmt)
    if not text.strip():
        return SourceFile(path, fmt, used, [])
    reader = {
        "json": read_json,
        "jsonl": read_jsonl,
        "csv": read_csv,
        "tsv": read_tsv,
        "text": _read_text,
    }[fmt]
    records = list(reader(text, path))
    if len({r.line for r in records}) < len(records):
        # Several records start on one line (minified JSON): number them 1, 2, ... instead,
        # so that (source, line) and hence the record id stay unique.
        records = [replace(r, line=i) for i, r in enumerate(records, 1)]
        return SourceFile(path, fmt, used, records, numbering="index")
    return SourceFile(path, fmt, used, records)


def sniff(text: str, fmt: str | None) -> str:
    """Check the extension against the content; guess when there is no extension."""
    first = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    if fmt in ("json", "jsonl", "text", None) and first[:1] in ("[", "{"):
        whole, line_one = _parses(text), _parses(first)
        if fmt == "jsonl":  # unless it is a pretty-printed JSON document
            return "json" if whole and not line_one else "jsonl"
        if whole or line_one:
            # JSON lines when the text is several documents, the first one on its own line.
            return "json" if whole else "jsonl"
        if fmt == "json":
            return "json"  # read_json reports where the JSON is broken
    if fmt == "csv" and "\t" in first and "," not in first:
        return "tsv"
    if fmt is not None:
        return fmt
    if "\t" in first:
        return "tsv"

    return "csv" if "," in first and not QA_LINE.match(first) else "text"


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def _position(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line} column {pos - text.rfind(chr(10), 0, pos)}"


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
    key = _wrapped_list(doc, path) if isinstance(doc, dict) else None
    if not isinstance(doc, list) and key is None:  # one record (or one stray value)
        yield RawRecord(text.count("\n", 0, start) + 1, text.strip(), doc)
        return
    if key is not None:
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
    try:
        for row in reader:
            start, done = done + 1, reader.line_num
            if len(row) <= 1 and not "".join(row).strip():  # a blank line; `,,` is a record
                continue
            raw = "".join(lines[start - 1 : done]).rstrip("\r\n")
            if header is None:
                header = [h.strip() for h in row]
            elif len(row) > len(header):
                detail = f"{len(row)} fields but the header has {len(header)}"
                yield RawRecord(start, raw, None, ("malformed_row", detail))
            else:
                row += [""] * (len(header) - len(row))  # short rows: missing cells are empty
                yield RawRecord(start, raw, dict(zip(header, row, strict=True)))
    except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit()
        raise InputError(f"{path}: unreadable CSV near line {reader.line_num} ({exc})") from None


def read_tsv(text: str, path: Path) -> Iterator[RawRecord]:
    return read_csv(text, path, delimiter="\t")


def _read_text(text: str, path: Path) -> Iterator[RawRecord]:

    return read_text(text, path)


def read_parquet(data: bytes, path: Path) -> Iterator[RawRecord]:
    import polars as pl

    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises several types for corrupt files
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    for number, row in enumerate(frame.iter_rows(named=True), 1):
        yield RawRecord(number, json.dumps(row, ensure_ascii=False, default=str), row)
