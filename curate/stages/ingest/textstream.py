"""CSV, TSV and text files read in chunks of whole lines, with memory bounded by the chunk.

The encoding is decided as `encodings.decode` decides it on the whole file only when that is
provable from what has been read: UTF-8 (with or without BOM) is chosen when every chunk
decodes strictly. A chunk that does not (GB18030, Big5, UTF-16, damaged UTF-8), a text file
whose first line opens JSON, a first chunk of blank lines, or an unreadable CSV raises
NotStreamable, and the caller reads the file whole with `readers.read_file`, so the records
are the same either way. Rows and blocks are parsed as they come (delimited.py and
textblocks.py, which read the whole text the same way, as one chunk).
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from curate.stages.ingest import readers
from curate.stages.ingest.delimited import delimited_records, delimiter_of
from curate.stages.ingest.fields import KNOWN_NAMES
from curate.stages.ingest.jsonl import NotStreamable
from curate.stages.ingest.raw import RawRecord
from curate.stages.ingest.textblocks import text_records

CHUNK = 1 << 24  # bytes of the file read per chunk (16 MiB)
_BARE_CR = re.compile(r"\r(?!\n)")
_BOM = b"\xef\xbb\xbf"


def streamable(path: Path, encoding: str | None) -> bool:
    return encoding is None and readers.input_format(path) in ("csv", "tsv", "text")


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")


def text_chunks(path: Path) -> Iterator[str]:
    """The file's text as `read_file` cleans it (BOM dropped, a CR alone made a line break),
    in chunks that end with a line break, the last one holding the rest; NotStreamable when
    a chunk is not UTF-8."""
    leftover, started = b"", False
    try:
        with _open(path) as f:
            while True:
                data = f.read(CHUNK)
                chunk = leftover + data
                cut = chunk.rfind(b"\n") if data else len(chunk) - 1
                if data and cut < 0:
                    leftover = chunk
                    continue
                piece, leftover = chunk[: cut + 1], chunk[cut + 1 :]
                if not started:
                    started, piece = True, piece.removeprefix(_BOM)
                    text = piece.decode("utf-8").removeprefix("\ufeff")
                else:
                    text = piece.decode("utf-8")
                yield _BARE_CR.sub("\n", text) if "\r" in text else text
                if not data:
                    return
    except (UnicodeDecodeError, OSError, EOFError, zlib.error):
        raise NotStreamable(str(path)) from None


def open_text(
    path: Path, names: tuple[str, ...] = ()
) -> tuple[str, str, Iterator[RawRecord], list[str]]:
    """(format, encoding, records as they are read, warnings filled in while reading) of a
    CSV, TSV or text file; NotStreamable (now or while reading) when it must be read whole."""
    chunks = text_chunks(path)
    head = next(chunks)
    first = next((ln.strip() for ln in head.split("\n") if ln.strip()), "")
    fmt = readers.input_format(path)
    if not first or (fmt == "text" and first[:1] in ("[", "{")):
        chunks.close()
        raise NotStreamable(str(path))
    fmt = readers.sniff(head, fmt)
    try:
        with _open(path) as f:
            used = "utf-8-sig" if f.read(3) == _BOM else "utf-8"
    except (OSError, EOFError, zlib.error):
        raise NotStreamable(str(path)) from None
    texts = _chain(head, chunks)
    warnings: list[str] = []
    if fmt == "text":
        return fmt, used, text_records(_split(texts), path), warnings
    known = frozenset(KNOWN_NAMES | {n.strip().lower() for n in names if n})
    lines = (io.StringIO(t, newline="").readlines() for t in texts)
    delimiter = delimiter_of(fmt, first)
    return fmt, used, delimited_records(lines, path, delimiter, known, warnings), warnings


def _chain(head: str, rest: Iterator[str]) -> Iterator[str]:
    yield head
    yield from rest


def _split(texts: Iterator[str]) -> Iterator[str]:
    """The text's `split("\\n")`, chunk by chunk (every chunk but the last ends with one)."""
    prev = next(texts)
    for text in texts:
        yield from prev.split("\n")[:-1]
        prev = text
    yield from prev.split("\n")
