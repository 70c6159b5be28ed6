"""What the eval data came from: the export's params, and each riddle's `riddle_type`.

The export folder's `manifest.json` holds the user template and system prompt every line was
made with (so `curate ask` can send a typed question the same way) and the `deduped.parquet`
it read; it is read verified (`curate.verify`), so an export from two runs is refused. When
that file has a `riddle_type` column, each eval riddle is found there by the hash of its
question and answer match keys and the scores are broken down by type.
"""

from __future__ import annotations

from pathlib import Path

from curate.normalize import content_hash
from curate.verify import export_manifest

DEDUPED = "deduped.parquet"


def _manifest(data: Path) -> dict:
    """The export's verified manifest ({} for a file, or a folder that is not an export);
    StageError for an export whose files differ from it."""
    data = Path(data)
    return (export_manifest(data) if data.is_dir() else None) or {}


def export_params(data: Path) -> dict:
    """The export's params (user_template, system_prompt, ...), or {} when not an export."""
    params = _manifest(data).get("params")
    return params if isinstance(params, dict) else {}


def _deduped(data: Path) -> Path | None:
    """The deduped.parquet the export read: as its manifest names it, else PROCESSED/."""
    data = Path(data)
    inputs = _manifest(data).get("inputs") or []
    named = [Path(i["path"]) for i in inputs if isinstance(i, dict) and "path" in i]
    candidates = [p for p in named if p.name == DEDUPED] + [data.parent.parent / DEDUPED]
    return next((p for p in candidates if p.is_file()), None)


def riddle_types(data: Path, riddles: list) -> dict[str, str]:
    """Riddle id -> riddle_type, for the riddles found in the deduped records; {} when the
    data has no riddle_type (an older dedupe, or a folder that is not an export)."""
    import polars as pl

    path = _deduped(data)
    if path is None or "riddle_type" not in pl.read_parquet_schema(path):
        return {}
    template = export_params(data).get("user_template") or "{question}"
    answers = sorted({r.reference for r in riddles})
    frame = pl.read_parquet(path, columns=["question", "answer", "category", "riddle_type"])
    frame = frame.filter(pl.col("answer").is_in(answers))  # only rows that can match
    by_hash: dict[str, str] = {}
    for row in frame.iter_rows(named=True):
        fields = {"question": row["question"] or "", "category": row["category"] or ""}
        try:
            user = template.format(**fields)
        except (KeyError, IndexError, ValueError):
            return {}  # a template with placeholders we cannot fill: no breakdown
        by_hash.setdefault(content_hash(user, row["answer"] or ""), row["riddle_type"])
    types = {r.id: by_hash.get(content_hash(r.question, r.reference)) for r in riddles}
    return {k: v for k, v in types.items() if v}
