"""Train/validation splits: group keys, groups merged across conflicts, stratified hashing.

A record's split follows its group's key (by default its answer), hashed with the seed, so
it does not depend on row order or on where the files were read from, and riddles of one
group never straddle train and validation.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from curate import io
from curate.normalize import display, match_key


@functools.cache
def answer_group(answer: str) -> str:
    """The split group of an answer: its match key with traditional characters folded.

    A character riddle keeps its glyph through ingest, so 門裡有個活人 -> 閃 and
    门里有个活人 -> 闪 are both kept; folding puts them in one split (no leak into validation).

    >>> answer_group("閃。") == answer_group("闪")
    True
    """
    return match_key(display(answer)) or answer


# What keeps records together in one split. "answer": every riddle answered 多此一举 lands in
# the same split, so validation measures riddles whose answer was never seen in training.
GROUP_KEYS = {
    "answer": lambda r: answer_group(r["answer"] or ""),
    "content": lambda r: r["content_hash"] or r["id"],
    "id": lambda r: r["id"],
}


def unit_hash(seed: int, key: str) -> float:
    """A number in [0, 1) from (seed, key): the same everywhere, whatever the row order."""
    digest = hashlib.sha256(f"{seed}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(
    keys: set[str], fraction: float, seed: int, strata: dict[str, str] | None = None
) -> dict[str, str]:
    """Group key -> split; train always gets a group, and with >= 2 groups and fraction > 0
    validation does too.

    Stratified by `strata` (group key -> riddle_type): within each stratum the groups with
    the lowest hashes, round(fraction x its size) of them, go to validation, so every type
    is held out in proportion (a stratum too small for one group gives none)."""
    u = {k: unit_hash(seed, k) for k in keys}
    strata = strata or {}
    by_stratum: dict[str, list[str]] = {}
    for k in keys:
        by_stratum.setdefault(strata.get(k) or "", []).append(k)
    split = dict.fromkeys(keys, "train")
    for members in by_stratum.values():
        members.sort(key=lambda k: (u[k], k))
        for k in members[: round(fraction * len(members))]:
            split[k] = "validation"
    if fraction > 0 and len(u) >= 2 and "validation" not in split.values():
        split[min(u, key=lambda k: (u[k], k))] = "validation"  # a small set: the lowest hash
    if u and "train" not in split.values():  # one group is trained on, not held out
        split[max(u, key=lambda k: (u[k], k))] = "train"
    return split


def merge_groups(keys: dict[str, str], together: list[set[str]]) -> dict[str, str]:
    """Id -> group key, with the groups of ids in one set merged (union-find, root = min key)."""
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        while parent.get(k, k) != k:
            k = parent[k]
        return k

    for ids in together:
        roots = sorted({find(keys[i]) for i in ids if i in keys})
        for r in roots[1:]:  # the smallest root wins, so the result ignores input order
            parent[r] = roots[0]
    return {i: find(k) for i, k in keys.items()}


def read_conflicts(processed: Path, known: set[str]) -> list[set[str]]:
    """Sets of kept ids that dedupe reported as conflicting (same question, other answers)."""
    path = io.stage_path(processed, "deduped", "conflicts.jsonl")
    if not path.exists():
        return []

    def strings(obj: object):
        if isinstance(obj, str):
            yield obj
        elif isinstance(obj, dict):
            for v in obj.values():
                yield from strings(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from strings(v)

    # Whatever the line's layout, its members are the strings that are kept ids.
    return [ids for obj in io.read_jsonl(path) if len(ids := set(strings(obj)) & known) > 1]
