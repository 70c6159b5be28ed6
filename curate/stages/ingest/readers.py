"""Readers: one input file -> raw records, each with its source, 1-based line and raw text.

Formats: JSON array, JSON object wrapping lists of records, JSONL, CSV and TSV (delimited.py),
text Q&A blocks (textblocks.py), Parquet, and `.gz` of any of them; chosen by extension, then by
content when the extension is unknown or lies (a `.json` file holding JSON lines). A CR not
followed by LF ends a line. Line numbers (1-based): JSONL -> the line; JSON array -> the line
where the element starts, or its index when several elements start on one line (minified JSON;
the manifest then says `"numbering": "index"`); CSV/TSV -> the line where the data row starts;
text -> a block's first line; Parquet -> the row number. Records are not interpreted here (see
fields.py), only parsed; a record whose text is not valid Unicode is marked `bad_unicode`.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from curate.errors import InputError
from curate.stages.ingest.delimited import delimiter_of, read_delimited
from curate.stages.ingest.encodings import decode
from curate.stages.ingest.fields import ANSWER_KEYS, KNOWN_NAMES, QUESTION_KEYS
from curate.stages.ingest.raw import RawRecord, SourceFile
from curate.stages.ingest.tables import table_records
from curate.stages.ingest.textblocks import QA_LINE, read_text
from curate.stages.ingest.walk import Found, scan

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
# Levels of wrapper objects searched for lists of records (`{"data": {"data": [...]}}` is 2).
WRAPPER_DEPTH = 4
_TOO_DEEP = "nested too deeply"  # past Python's recursion limit (about 1000 levels)
_BARE_CR = re.compile(r"\r(?!\n)")
_CELLS = re.compile(r"[,;|]")  # what may separate the cells of a header row
# A surrogate code point, or its JSON escape (a pair of them is one emoji; one alone is invalid).
_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")


def input_format(path: Path) -> str | None:
    """Format named by the extension (`.gz` looked through), or None when unknown."""
    suffixes = path.suffixes[-2:] if path.suffix.lower() == ".gz" else path.suffixes[-1:]
    return EXTENSIONS.get(suffixes[0].lower()) if suffixes else None


def find_inputs(sources: tuple[Path, ...] | list[Path], skip: Path | None = None) -> Found:
    """Files to read (files as given, folders searched for known extensions), with warnings
    about links and folders left out; none found is an error."""
    found = scan(list(sources), input_format, skip)
    if not found.paths:
        shown = ", ".join(str(s) for s in sources)
        raise InputError(
            f"no input files in {shown} (looked for {', '.join(EXTENSIONS)}, "
            "and .gz of those); pass files or folders as arguments"
        )
    return found


def read_file(path: Path, encoding: str | None = None, names: tuple[str, ...] = ()) -> SourceFile:
    """Read one input file into raw records; unreadable files raise InputError. `names`: field
    names the user gave (--question-field ...), which mark a CSV's first row as a header."""
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
    if "\r" in text:  # a CR not followed by LF ends a line too (old Mac files)
        text = _BARE_CR.sub("\n", text)
    fmt = sniff(text, fmt)
    if not text.strip():
        return SourceFile(path, fmt, used, [])
    warnings: list[str] = []
    if fmt in ("csv", "tsv"):
        known = KNOWN_NAMES | {n.strip().lower() for n in names if n}
        first = next((ln for ln in text.split("\n") if ln.strip()), "")
        delimiter = delimiter_of(fmt, first)
        records = list(read_delimited(text, path, delimiter, frozenset(known), warnings))
    else:
        reader = {"json": read_json, "jsonl": read_jsonl, "text": read_text}[fmt]
        records = list(reader(text, path))
    if _SURROGATE.search(text):
        records = [_check_unicode(r) for r in records]
    numbering = "line"
    if len({r.line for r in records}) < len(records):
        # Several records start on one line (minified JSON): number them 1, 2, ... instead,
        # so that (source, line) and hence the record id stay unique.
        records = [replace(r, line=i) for i, r in enumerate(records, 1)]
        numbering = "index"
    return SourceFile(path, fmt, used, records, numbering, tuple(warnings))


def _check_unicode(rec: RawRecord) -> RawRecord:
    """A record whose text holds a lone surrogate (`"\\ud800"` in JSON) becomes `bad_unicode`:
    no UTF-8 file, OpenCC or polars can take it."""
    if rec.error is not None or not _SURROGATE.search(rec.raw):
        return rec
    try:
        json.dumps(rec.value, ensure_ascii=False).encode("utf-8")
        rec.raw.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end].encode("utf-8", "backslashreplace").decode()
        raw = rec.raw.encode("utf-8", "backslashreplace").decode()
        detail = f"a lone surrogate {bad} (not valid Unicode; write the character itself)"
        return RawRecord(rec.line, raw, None, ("bad_unicode", detail))
    return rec


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
    if fmt == "text" and not QA_LINE.match(first):  # a table saved as .txt (Excel does)
        if "\t" in first:
            return "tsv"
        cells = _CELLS.split(first)
        if len(cells) > 1 and any(cell.strip().lower() in KNOWN_NAMES for cell in cells):
            return "csv"
    if fmt is not None:
        return fmt
    if "\t" in first:
        return "tsv"

    return "csv" if "," in first and not QA_LINE.match(first) else "text"


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


def _parses(text: str) -> bool:
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
    """A JSON array of records, an object wrapping lists of records, a table (tables.py), or
    one record object.

    Every list of records in a wrapper object is read (a duplicated key too, and lists in
    nested wrapper objects); when there are several, each record gets its list's key (path:
    `data.train`) as field `list` (so it lands in `meta`).
    """
    decoder = json.JSONDecoder()
    try:
        doc = loads(text)
    except json.JSONDecodeError as exc:
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
    if not lists:  # one record (or one stray value)
        yield RawRecord(text.count("\n", 0, start) + 1, text.strip(), doc)
        return
    for key, records in lists:
        for rec in records:
            if len(lists) > 1 and isinstance(rec.value, dict) and "list" not in rec.value:
                rec = replace(rec, value={**rec.value, "list": key})
            yield rec


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
    """One JSON value per line; a bad line becomes a `malformed_json` record, not an error."""
    for number, line in enumerate(io.StringIO(text), 1):
        raw = line.rstrip("\r\n")
        if not raw.strip():
            continue
        try:
            yield RawRecord(number, raw, _line_value(raw))
        except json.JSONDecodeError as exc:
            detail = f"{_json_error(exc)} at column {exc.colno}"
            yield RawRecord(number, raw, None, ("malformed_json", detail))


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


def jsonl_record(number: int, raw: str) -> RawRecord:
    """One non-blank JSONL line as `read_file` reads it (streaming readers, one line at a time)."""
    rec = replace(next(read_jsonl(raw, Path())), line=number)
    return _check_unicode(rec) if _SURROGATE.search(raw) else rec


def read_parquet(data: bytes, path: Path) -> Iterator[RawRecord]:
    import polars as pl

    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises several types for corrupt files
        raise InputError(
            f"{path}: not a readable Parquet file ({exc}); write it again, or move it out of "
            "the sources"
        ) from None
    frame = frame.with_columns(integers_with_nulls(frame.lazy()))
    yield from parquet_records(frame, 1)


def parquet_records(frame, first: int) -> Iterator[RawRecord]:
    """Rows of a Parquet frame as records numbered from `first` (the row number)."""
    for number, row in enumerate(frame.iter_rows(named=True), first):
        yield RawRecord(number, json.dumps(row, ensure_ascii=False, default=str), row)


def integers_with_nulls(frame) -> list:
    """Float columns holding only whole numbers and some nulls, cast back to integers: pandas
    stores an integer column with a missing value as float64, which would read `2` as `2.0`.
    `frame` is a LazyFrame (a scan of a large file is checked streaming)."""
    import polars as pl

    floats = [name for name, dtype in frame.collect_schema().items() if dtype.is_float()]
    if not floats:
        return []
    checks = []
    for name in floats:
        values = pl.col(name).drop_nulls()
        whole = values.is_finite().all() & (values == values.round(0)).all()
        small = values.abs().max().fill_null(0) < 2**53  # exact as float64 up to 2**53
        checks.append((pl.col(name).null_count() > 0) & whole & small)
    found = frame.select(pl.concat_list(checks).alias("cast")).collect()["cast"][0].to_list()
    return [pl.col(name).cast(pl.Int64) for name, cast in zip(floats, found, strict=True) if cast]
