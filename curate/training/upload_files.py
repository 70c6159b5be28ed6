"""The files the SiliconFlow backend uploads: each split's lines read, checked and reduced to
`{"messages": [...]}`, with the size warnings the platform's documented limits call for."""

from __future__ import annotations

import json
from pathlib import Path

from curate.errors import InputError
from curate.files import dumps, sha256_file

__all__ = ["BATCH_BYTES", "BATCH_LINES", "data_warnings", "describe", "read_split"]

BATCH_LINES, BATCH_BYTES = 5000, 1 << 30  # the batch API's limits (fine-tuning's: undocumented)


def read_split(data: Path, split: str) -> tuple[list[str], list[str]]:
    """The split's lines, checked and reduced to `{"messages": [...]}`; and the shard names."""
    from curate.messages import read_conversations
    from curate.verify import check_file, empty_split, split_files

    data = Path(data)
    one_file = data.is_file() and split == "train"
    shards = [check_file(data)] if one_file else split_files(data, split)
    if not shards:
        hint = "run `curate export --format jsonl` first"
        if split != "train":
            hint = "drop --own-validation, or export with --val-fraction above 0"
        why = f"no {split}-*.jsonl files in {data}; {hint} (SiliconFlow takes jsonl)"
        empty = empty_split(data, split)
        if empty and split != "train":
            empty += "; or drop --own-validation"
        raise InputError(empty or why)
    conversations = read_conversations(
        shards, f"the {split} data in {data}", "fix them or rerun `curate export`"
    )
    # Only `messages` goes up: extra keys are undocumented for the platform.
    lines = [dumps({"messages": c.messages}) for c in conversations]
    return lines, [s.name for s in shards]


def data_warnings(split: str, lines: list[str], max_tokens: int | None) -> list[str]:
    """Warnings about sizes the platform may not take (limits for fine-tuning are undocumented)."""
    warnings = []
    if max_tokens:
        # Characters stand in for tokens: Qwen's tokenizer spends about one token per Chinese
        # character or fewer, so this over-counts rather than misses long samples.
        long = sum(1 for line in lines if _chars(line) > max_tokens)
        if long:
            warnings.append(
                f"{split}: {long} samples may exceed Max Tokens {max_tokens} (by characters)"
            )
    size = sum(len(line.encode()) + 1 for line in lines)
    if len(lines) > BATCH_LINES or size > BATCH_BYTES:
        warnings.append(
            f"{split}: {len(lines)} lines, {size} bytes: above the batch API's limits "
            f"({BATCH_LINES} lines, 1 GB); fine-tuning limits are undocumented"
        )
    return warnings


def _chars(line: str) -> int:
    return sum(len(m["content"]) for m in json.loads(line)["messages"])


def describe(path: Path, lines: list[str], shards: list[str]) -> dict:
    return {
        "path": path.name,
        "lines": len(lines),
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
        "shards": shards,
        "file_id": None,
    }
