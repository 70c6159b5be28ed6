"""Readers: one input file -> raw records, each with its source, 1-based line and raw text.

Formats: JSON documents and JSON lines (jsondoc.py), CSV and TSV (delimited.py),
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
from curate.stages.ingest.fields import KNOWN_NAMES
from curate.stages.ingest.jsondoc import documents, parses, read_json, read_jsonl
from curate.stages.ingest.raw import RawRecord, SourceFile
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
# Files of riddles in formats curate does not read: said so, not skipped without a word.
_SPREADSHEET = "a spreadsheet curate cannot read: save it as CSV UTF-8 (or Unicode Text) beside it"
_ARCHIVE = "an archive curate cannot read: unpack it (or gzip single files)"
UNREAD = dict.fromkeys((".xlsx", ".xlsm", ".xls", ".ods", ".numbers", ".et"), _SPREADSHEET)
UNREAD |= dict.fromkeys((".zip", ".rar", ".7z", ".tar", ".tgz", ".bz2", ".xz", ".zst"), _ARCHIVE)
_BARE_CR = re.compile(r"\r(?!\n)")
_CELLS = re.compile(r"[,;|]")  # what may separate the cells of a header row
# A surrogate code point, or its JSON escape (a pair of them is one emoji; one alone is invalid).
_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")


def input_format(path: Path) -> str | None:
    """Format named by the extension (`.gz` looked through), or None when unknown."""
    suffixes = path.suffixes[-2:] if path.suffix.lower() == ".gz" else path.suffixes[-1:]
    return EXTENSIONS.get(suffixes[0].lower()) if suffixes else None


def unread(path: Path) -> str | None:
    """Why a file holding riddles in a format curate cannot read is not read, or None."""
    return UNREAD.get(path.suffix.lower())


def find_inputs(sources: tuple[Path, ...] | list[Path], skip: Path | None = None) -> Found:
    """Files to read (files as given, folders searched for known extensions), with warnings
    about links and folders left out; none found is an error."""
    found = scan(list(sources), input_format, skip, unread)
    if not found.paths:
        shown = ", ".join(str(s) for s in sources)
        skipped = "".join(f"; {w}" for w in found.warnings)
        raise InputError(
            f"no input files in {shown} (looked for {', '.join(EXTENSIONS)}, "
            f"and .gz of those); pass files or folders as arguments{skipped}"
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
    if fmt is None and unread(path):
        raise InputError(f"{path}: {unread(path)}")
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
        whole, line_one = parses(text), parses(first)
        if not (whole or line_one) and documents(text, json.JSONDecoder()) is not None:
            return "json"  # pretty-printed records one after another, as jq writes them
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


def jsonl_record(number: int, raw: str) -> RawRecord:
    """One non-blank JSONL line as `read_file` reads it (streaming readers, one line at a time).
    A line holding several records (an array) is not streamed: `jsonl.map_lines` sends the
    file to `read_file`, which numbers its records by index."""
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
