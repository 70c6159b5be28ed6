"""The per-record ingest path, kept only as the reference the column-wise path is tested
against: every file read whole by `readers.read_file`, every record through `convert_one`."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from curate.record import SCHEMA
from curate.stage import write_stage
from curate.stages.ingest import IngestConfig, filters, readers, source_name
from curate.stages.ingest.batches import convert_one


def reference_rows(config: IngestConfig) -> tuple[pl.DataFrame, list[dict], int]:
    """Kept rows, rejects and the number of records read, one record at a time."""
    limits = filters.Limits(config.max_question_chars, config.max_answer_chars)
    names = (config.question_field or "", config.answer_field or "")
    kept, rejects, n_in = [], [], 0
    for path in readers.find_inputs(list(config.sources), skip=config.processed).paths:
        src, name = readers.read_file(path, config.encoding, names), source_name(path)
        for rec in src.records:
            row = convert_one(rec, name, config, limits)
            (rejects if "reason" in row else kept).append(row)
            n_in += 1
    frame = pl.DataFrame({c: [row[c] for row in kept] for c in SCHEMA}, schema=SCHEMA)
    return frame, rejects, n_in


def reference_ingest(config: IngestConfig, processed: Path) -> None:
    """Write the reference's kept rows and rejects as a stage in `processed`."""
    frame, rejects, n_in = reference_rows(config)
    write_stage(processed, "ingested", frame, rejects, n_in=n_in, params=config, inputs=[])
