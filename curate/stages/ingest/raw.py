"""What a reader yields: one parsed input record, and one file's records with how they were read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
    numbering: str = "line"  # what RawRecord.line counts: "line", "index" or "row" (Parquet)
    warnings: tuple[str, ...] = ()  # how the file was read, when a user should know
