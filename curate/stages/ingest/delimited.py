"""CSV and TSV files: a header row, then one record per row (line = where the row starts).

- Separator: `,` for CSV, tab for TSV; a CSV whose first line has no comma but `;` or `|`
  is separated by that; Excel's first line `sep=;` names it (and is not a row).
- Quotes: CSV fields may be quoted (holding commas and newlines). TSV from spreadsheets rarely
  quotes, so a TSV file is read without quote handling (`"小"字加一点` stays as written) unless
  it is clearly quoted: some field is wrapped in quotes and none starts with a quote closed
  mid-field.
- Unclosed quote: a quoted field that runs over a line break, where the next line reads on its
  own as a complete row of the header's width (quotes balanced), or that runs to the end of
  the file, was never closed. That row is rejected (`unclosed_quote`, with its line) and
  reading goes on from the next line, so the rows it would have swallowed are read.
- No header: when no cell of the first row is a known field name (nor one named by
  `--question-field`/`--answer-field`) and the row does not look like column names (ASCII
  identifiers), the file has no header: columns are question, answer, then column3, ... and a
  warning says so.
- Duplicate column names: the last column of a name is the field; earlier ones are kept in
  `meta` as `name#N` (N = the column's 1-based position).
- The header repeated further down (files joined with `cat`): those rows are skipped, with a
  warning; they are not records.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from curate.stages.ingest.raw import RawRecord

# A row of column names rather than data: every cell a short ASCII identifier.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]{0,39}")
_WRAPPED = re.compile(r'"(?:[^"]|"")*"')  # a whole field in quotes, inner quotes doubled
_OPENED = re.compile(r'"(?:[^"]|"")*')  # a quoted field that goes on past the line end
QUOTE_SAMPLE = 5000  # lines quoted_tsv looks at
UNCLOSED = "a quote opened in this row is never closed; the lines after it are read"
OTHER_DELIMITERS = (";", "|")  # a `.csv` file's separator when its first line has no comma
SEP_HINT = re.compile(r"sep=(.)")  # Excel's first line naming the separator: not a row


class _Rows:
    """(first line, raw text, cells) of each non-blank row; instead of cells, (reason, detail)
    for a row whose quote is never closed or that csv cannot read (a cell past its size
    limit), after which reading goes on from the row's next line. Set `width` to
    the header's width once known (the shape the unclosed-quote check looks for)."""

    def __init__(self, lines: list[str], path: Path, delimiter: str, quoted: bool) -> None:
        self.lines, self.quoted = lines, quoted
        self.path, self.delimiter, self.pos = path, delimiter, 0  # pos: next line to read
        self.width: int | None = None
        self.offset, self.final = 0, True  # lines before `lines`; whether they end the file
        self.rest: int | None = None  # first line of a row cut by the end of `lines`

    def _reader(self):  # csv.reader pulls lines one at a time, no read-ahead
        quoting = csv.QUOTE_MINIMAL if self.quoted else csv.QUOTE_NONE
        lines = iter(self.lines[self.pos :] if self.pos else self.lines)
        return csv.reader(lines, delimiter=self.delimiter, strict=False, quoting=quoting)

    def __iter__(self) -> Iterator[tuple[int, str, list[str] | tuple[str, str]]]:
        reader, base = self._reader(), 0  # base: lines before the reader's first
        while True:
            first = self.pos
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit()
                self.pos = base + reader.line_num
                if self._cut(first):
                    return
                # None: an unclosed quote swallowed more than the field size limit; else
                # that row only is lost (the next line may start a good one)
                unclosed = self.quoted and self._ends_in_quote(first)
                row = None if unclosed else _unreadable(exc)
            self.pos = base + reader.line_num
            if self._cut(first):
                return
            if isinstance(row, list) and len(row) <= 1 and not "".join(row).strip():
                continue  # a blank line; `,,` is a record
            if not isinstance(row, list) or (self.quoted and self._unclosed(first)):
                self.pos = first + 1  # go on from the next line
                reader, base = self._reader(), self.pos
                error = row if isinstance(row, tuple) else ("unclosed_quote", UNCLOSED)
                yield self.offset + first + 1, self.lines[first].rstrip("\r\n"), error
            else:
                raw = "".join(self.lines[first : self.pos]).rstrip("\r\n")
                yield self.offset + first + 1, raw, row

    def _cut(self, first: int) -> bool:
        """Whether the row starting at `first` reached the end of lines that do not end the
        file: it is read again, whole, with the next lines (`rest`)."""
        if self.final or self.pos < len(self.lines):
            return False
        self.rest = first
        return True

    def _ends_in_quote(self, first: int) -> bool:
        return _ends_in_quote("".join(self.lines[first : self.pos]), self.delimiter)

    def _unclosed(self, first: int) -> bool:
        """A quote opened in the row just read and never closed (see the module doc)."""
        if self.pos >= len(self.lines) and self._ends_in_quote(first):  # ran to the end
            return True
        if self.width is None or self.pos - first < 2:
            return False
        after = self.lines[first + 1].rstrip("\r\n")
        if after.count('"') % 2 or _ends_in_quote(after, self.delimiter):
            return False  # the line holding the closing quote
        rows = list(csv.reader([after], delimiter=self.delimiter, strict=False))
        return len(rows) == 1 and len(rows[0]) == self.width


def delimiter_of(fmt: str, first: str) -> str:
    """The cell separator of a CSV (`,`) or TSV (tab) file whose first non-blank line is
    `first`: a CSV whose first line has no comma but a `;` or `|` uses that (spreadsheets set
    to a European locale write `;`), or the one Excel's first line `sep=;` names."""
    if fmt == "tsv":
        return "\t"
    hint = SEP_HINT.fullmatch(first.strip())
    if hint:
        return hint.group(1)
    if "," not in first:
        for other in OTHER_DELIMITERS:
            if other in first:
                return other
    return ","


def read_delimited(
    text: str, path: Path, delimiter: str, known: frozenset[str], warnings: list[str]
) -> Iterator[RawRecord]:
    """Records of a CSV (`,`) or TSV (tab) text; `known` = lowercased field names."""
    lines = io.StringIO(text, newline="").readlines()
    return delimited_records(iter([lines]), path, delimiter, known, warnings)


def delimited_records(
    chunks: Iterator[list[str]],
    path: Path,
    delimiter: str,
    known: frozenset[str],
    warnings: list[str],
) -> Iterator[RawRecord]:
    """`read_delimited` on the file's lines (line ends kept) given in chunks: records come as
    they are read, a row cut by a chunk's end is read again with the next chunk, and the TSV
    quoting is decided on the first QUOTE_SAMPLE lines, as `quoted_tsv` does on the whole."""
    lines: list[str] = []
    nxt = next(chunks, None)
    while nxt is not None and (not lines or (delimiter == "\t" and len(lines) < QUOTE_SAMPLE)):
        lines, nxt = lines + nxt, next(chunks, None)
    quoted = delimiter != "\t" or quoted_tsv(lines)
    header = _Header()
    offset, width = 0, None
    if lines and SEP_HINT.fullmatch(lines[0].strip()):
        lines, offset = lines[1:], 1
    while True:
        rows = _Rows(lines, path, delimiter, quoted)
        rows.offset, rows.final, rows.width = offset, nxt is None, width
        yield from _records(rows, path, known, warnings, header)
        width = rows.width
        if nxt is None:
            return
        cut = len(lines) if rows.rest is None else rows.rest
        lines, offset, nxt = lines[cut:] + nxt, offset + cut, next(chunks, None)


@dataclass
class _Header:
    """A file's header once read: the column names used, and the row as written when the
    file has one (`seen`: to spot it again where files were joined, `cat a.csv b.csv`)."""

    columns: list[str] | None = None
    seen: list[str] | None = None
    repeated: bool = False  # a warning says so, once


def _records(
    rows: _Rows, path: Path, known: frozenset[str], warnings: list[str], header: _Header
) -> Iterator[RawRecord]:
    """The records of `rows`; `header` is read from the first row, and updated."""
    for line, raw, row in rows:
        if isinstance(row, tuple):
            yield RawRecord(line, raw, None, row)
            continue
        if header.columns is None:
            header.columns = _header(row, known)
            if header.columns is not None:  # the header row itself
                rows.width, header.seen = len(header.columns), _names(row)
                continue
            width = len(row)
            header.columns = ["question", "answer"] + [f"column{i}" for i in range(3, width + 1)]
            rows.width = len(header.columns)
            warnings.append(_headerless(path, row))
        elif header.seen is not None and _names(row) == header.seen:
            if not header.repeated:
                header.repeated = True
                warnings.append(
                    f"{path}: line {line} repeats the header (files joined together?); "
                    "rows repeating it are skipped"
                )
            continue
        columns = header.columns
        if len(row) > len(columns):
            detail = f"{len(row)} fields but the header has {len(columns)}"
            yield RawRecord(line, raw, None, ("malformed_row", detail))
        else:
            row += [""] * (len(columns) - len(row))  # short rows: missing cells are empty
            yield RawRecord(line, raw, dict(zip(columns, row, strict=True)))


def _names(row: list[str]) -> list[str]:
    """A row's cells as header names compare: no BOM (a joined file's), spaces or case."""
    return [cell.replace("\ufeff", "").strip().lower() for cell in row]


def _unreadable(exc: csv.Error) -> tuple[str, str]:
    """The reject of a row Python's csv cannot read (a cell past csv.field_size_limit())."""
    if "field limit" in str(exc):
        limit = csv.field_size_limit()
        return ("too_long", f"a cell longer than {limit:,} characters, more than CSV reads")
    return ("malformed_row", f"not readable as CSV ({exc})")


def _headerless(path: Path, row: list[str]) -> str:
    shown = ", ".join(c.strip() for c in row)[:60]
    return (
        f"{path}: the first row ({shown}) names no known field, so the file is read "
        "without a header: columns are question, answer, then column3, ... (if it is "
        "a header, name the columns with --question-field and --answer-field)"
    )


def _header(row: list[str], known: frozenset[str]) -> list[str] | None:
    """Column names (earlier duplicates renamed `name#N`), or None when `row` is data."""
    names = [h.strip() for h in row]
    headerless = (
        len(names) >= 2
        and not any(n.lower() in known for n in names)
        and not all(_IDENTIFIER.fullmatch(n) for n in names if n)
    )
    if headerless:
        return None
    last = {n: i for i, n in enumerate(names)}
    return [n if last[n] == i else f"{n}#{i + 1}" for i, n in enumerate(names)]


def _ends_in_quote(text: str, delimiter: str) -> bool:
    """Whether `text` ends inside a quoted field (as csv reads it: a quote opens a field only
    at its start, `""` inside is a quote)."""
    in_quote, at_start, i = False, True, 0
    while i < len(text):
        ch = text[i]
        if in_quote and ch == '"':
            if text[i + 1 : i + 2] == '"':
                i += 1
            else:
                in_quote = False
        elif ch == '"' and at_start:
            in_quote = True
        at_start = not in_quote and ch in (delimiter, "\n", "\r")
        i += 1
    return in_quote


def quoted_tsv(lines: list[str]) -> bool:
    """A TSV file that uses CSV quoting: some field wrapped in quotes, none like `"小"字加一点`."""
    wrapped = False
    for line in lines[:QUOTE_SAMPLE]:
        for cell in line.rstrip("\r\n").split("\t"):
            if not cell.startswith('"'):
                continue
            if _WRAPPED.fullmatch(cell):
                wrapped = True
            elif not _OPENED.fullmatch(cell):  # a quote closed mid-field: plain text
                return False
    return wrapped
