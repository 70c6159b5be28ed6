"""What a run trained on, written beside its adapter (local) or upload (siliconflow).

- `train_shards.json`: every training shard with its sha256, and the record count;
- `train_records.txt`: one hash per training riddle (each user/assistant pair), the
  `content_hash` of its question and answer match keys, in training order. The texts go
  through ingest's display normalization first, so a riddle re-spelled in traditional
  characters or other punctuation hashes the same.
`curate eval` reads the hashes to refuse riddles the model was trained on (`overlapping`).
Light on purpose (no torch): eval imports it.
"""

from __future__ import annotations

from pathlib import Path

from curate.errors import InputError
from curate.files import sha256_file, write_json, write_text
from curate.messages import pairs
from curate.normalize import content_hash, display

SHARDS_FILE = "train_shards.json"
HASHES_FILE = "train_records.txt"


def riddle_hash(question: str, answer: str) -> str:
    """The hash of one riddle: its question and answer match keys (`content_hash`).

    >>> riddle_hash("什麼門永遠關不上?", "球門") == riddle_hash("什么门永远关不上？", "球门")
    True
    """
    return content_hash(display(question), display(answer))


def riddle_hashes(conversations: list[list[dict]]) -> list[str]:
    """One content hash per user/assistant pair of each conversation, in order.

    >>> riddle_hashes([[{"role": "user", "content": "什么门永远关不上？"},
    ...                 {"role": "assistant", "content": "球门"}]])
    ['2e7eeb5c403d15b3']
    """
    return [riddle_hash(q, a) for messages in conversations for q, a in pairs(messages)]


def write_train_record(folder: Path, shards: list[Path], rows: list[dict]) -> dict[str, Path]:
    """Write both files for the `{"messages": [...]}` rows read from `shards`; their paths."""
    folder = Path(folder)
    hashes = riddle_hashes([row["messages"] for row in rows])
    info = {
        "shards": [{"path": str(s), "sha256": sha256_file(s)} for s in shards],
        "records": len(rows),
        "riddles": len(hashes),
        "hashes": HASHES_FILE,
    }
    write_text(folder / HASHES_FILE, "".join(h + "\n" for h in hashes))
    write_json(folder / SHARDS_FILE, info)
    return {"train_shards": folder / SHARDS_FILE, "train_records": folder / HASHES_FILE}


def read_train_hashes(folder: Path) -> set[str]:
    """The hashes a run trained on; InputError when the folder has no record of them."""
    path = Path(folder) / HASHES_FILE
    if not path.is_file():
        raise InputError(
            f"{folder} has no {HASHES_FILE} (what the model was trained on), so overlap with "
            "the eval data cannot be checked; point at the `curate train` output folder, "
            "or pass --allow-overlap to evaluate anyway"
        )
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line}
