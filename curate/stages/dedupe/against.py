"""`--against PATH...`: external sets (an earlier dataset, a benchmark's test file, your eval
riddles) that the output must not contain.

Each path is read as `curate ingest` reads a raw file (any supported format, `messages` JSONL
included; a folder: every file in it) and normalized the same way. Its records join the
ranking ahead of every own record, so a record of ours that matches one of them directly (exact,
near_duplicate or variant) is removed with kind `contaminated`, pointing at it; external
records are never written anywhere.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from curate.errors import InputError
from curate.normalize import display
from curate.record import SCHEMA, content_hash, record_id
from curate.riddle_type import detect
from curate.stages.ingest import readers
from curate.stages.ingest.fields import Fields, to_fields


def load(paths: tuple[Path, ...], convert: str = "t2s") -> tuple[pl.DataFrame, tuple[str, ...]]:
    """The records of the external sets, as canonical rows, and a warning per path with rows
    that could not be read (they cannot match anything). A path with no riddle at all is an
    error: the check would pass whatever the data holds."""
    rows, warnings = [], []
    for path in paths:
        if not Path(path).exists():
            raise InputError(f"{path}: no such file (--against)")
        found, skipped = len(rows), []
        for file in readers.find_inputs([Path(path)]).paths:
            source = file.as_posix()
            for rec in readers.read_file(file).records:
                fields = rec.error or to_fields(rec.value, None, None)
                if not isinstance(fields, Fields):
                    skipped.append(f"{source}:{rec.line}: {fields[1]}")
                    continue
                q, a = display(fields.question, convert), display(fields.answer, convert)
                if q and a:
                    cat = display(fields.category, convert) if fields.category else None
                    rows.append(_row(source, rec.line, q, a, cat))
                else:
                    skipped.append(f"{source}:{rec.line}: an empty question or answer")
        if len(rows) == found:
            why = f" ({skipped[0]})" if skipped else ""
            raise InputError(
                f"{path}: no riddle could be read{why}, so nothing would be checked against it; "
                "see what `curate ingest` makes of it, or leave out --against"
            )
        if skipped:
            warnings.append(
                f"--against {path}: {len(skipped)} rows could not be read and are not checked "
                f"against (first: {skipped[0]})"
            )
    return pl.DataFrame(rows, schema=SCHEMA, orient="row"), tuple(warnings)


def _row(source: str, line: int, question: str, answer: str, category: str | None) -> tuple:
    values = {
        "id": record_id(source, line),
        "source": source,
        "line": line,
        "category": category,
        "question": question,
        "answer": answer,
        "question_raw": question,
        "answer_raw": answer,
        "content_hash": content_hash(question, answer),
        "meta": None,
        "riddle_type": detect(question, answer, category),
    }
    return tuple(values[c] for c in SCHEMA)
