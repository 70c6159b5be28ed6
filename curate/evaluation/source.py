"""What the eval data came from: the export's params, and each riddle's `riddle_type`.

The export folder's `manifest.json` holds the user template and system prompt every line was
made with (so `curate ask` can send a typed question the same way) and the `deduped.parquet`
it read. When that file has a `riddle_type` column, each eval riddle is found there by the
hash of its question and answer match keys and the scores are broken down by type.
"""

from __future__ import annotations

import json
from pathlib import Path

from curate.normalize import content_hash

MANIFEST = "manifest.json"
DEDUPED = "deduped.parquet"


def export_params(data: Path) -> dict:
    """The export's params (user_template, system_prompt, ...), or {} when not an export."""
    path = Path(data) / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    params = manifest.get("params") if isinstance(manifest, dict) else None
    return params if isinstance(params, dict) else {}


def _deduped(data: Path) -> Path | None:
    """The deduped.parquet the export read: as its manifest names it, else PROCESSED/."""
    data = Path(data)
    named = []
    try:
        manifest = json.loads((data / MANIFEST).read_text(encoding="utf-8"))
        named = [Path(i["path"]) for i in manifest.get("inputs", []) if "path" in i]
    except (OSError, ValueError, TypeError, AttributeError):
        pass
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
