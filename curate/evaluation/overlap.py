"""The overlap guard: never score a fine-tuned model on riddles it was trained on.

`curate train` writes one hash per training riddle beside its output (`train_records.txt`,
see `curate.training.records`). Eval hashes each of its riddles the same way (match keys of
question and answer, so punctuation or traditional characters do not hide a repeat) and
refuses when any is in the training set; `--allow-overlap` proceeds and says so in eval.json.
Re-exporting with another `--seed` or `--val-fraction` is the usual way training riddles end
up in validation.
"""

from __future__ import annotations

from pathlib import Path

from curate.errors import InputError
from curate.evaluation.config import EvalConfig
from curate.training.records import HASHES_FILE, read_train_hashes, riddle_hash

SHOWN = 3  # overlapping riddles named in the error


def record_folder(config: EvalConfig) -> Path | None:
    """Where the training record is: --train-record, else the adapter folder, else None."""
    if config.train_record:
        return Path(config.train_record)
    return Path(config.adapter) if config.adapter else None


def check_overlap(config: EvalConfig, riddles: list) -> dict:
    """What was checked and found (for eval.json); InputError on overlap unless allowed."""
    folder = record_folder(config)
    if folder is None:
        reason = "no --adapter or --train-record: what the model was trained on is unknown"
        return {"checked": False, "reason": reason, "allowed": config.allow_overlap}
    if config.allow_overlap and not (folder / HASHES_FILE).is_file():
        reason = f"{folder} has no {HASHES_FILE}"
        return {"checked": False, "reason": reason, "allowed": True}
    trained = read_train_hashes(folder)
    seen = [r for r in riddles if riddle_hash(r.question, r.reference) in trained]
    found = {
        "checked": True,
        "record": str(folder / HASHES_FILE),
        "train_riddles": len(trained),
        "overlapping": len(seen),
        "examples": [{"id": r.id, "question": r.question, "answer": r.reference} for r in seen],
        "allowed": config.allow_overlap,
    }
    found["examples"] = found["examples"][:10]
    if seen and not config.allow_overlap:
        named = "; ".join(f"{r.id} {r.question} -> {r.reference}" for r in seen[:SHOWN])
        more = f"; and {len(seen) - SHOWN} more" if len(seen) > SHOWN else ""
        raise InputError(
            f"{len(seen)} of {len(riddles)} eval riddles were in the training data "
            f"({folder / HASHES_FILE}): {named}{more}. Evaluate on the split exported with the "
            "same --seed, --val-fraction and --group-by as the training data, or pass "
            "--allow-overlap to score them anyway (recorded in eval.json)"
        )
    return found
