"""Validation riddles whose question is nearly a training question: moved to train.

Split groups follow the answer (`splits.py`), and dedupe's conflicts join near-identical
questions with other answers at its conflict threshold (bigram Jaccard 0.65). A saying
reworded a little with its punchline worded another way still fell on both sides:
断柄锄头安了把 -> 有把柄可抓 in validation, 断了柄锄头安了把 -> 有了把柄 in train (0.63). Merging
such pairs into one group chains through rewordings (at 1M, Jaccard 0.5 joined a third of
the riddles into one group), so a validation group with a question this close to a training
question goes to train instead, until none is. Validation shrinks a little (xiehouyu.json:
1,399 -> 1,285 records); the model is never scored on a riddle it was trained on.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.stages.dedupe import lsh_params, minhash
from curate.stages.dedupe.keys import content_keys

NEAR = 0.6  # bigram Jaccard of content keys (below dedupe's conflict threshold)
NUM_PERM = 64


def near_pairs(questions: list[str], threshold: float = NEAR) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) of questions whose content keys' bigram Jaccard reaches `threshold`,
    whatever their answers (MinHash LSH tuned a little lower finds the candidates). Content
    keys: match keys without type markers, so that 半个月亮（打一字） -> 胖 and
    两个月亮（打一字） -> 朋 are not near for their shared marker (0.5 without it, 0.71 with)."""
    empty = np.zeros(0, np.int64)
    if len(questions) < 2:
        return empty, empty
    sh = minhash.shingles(content_keys(pl.Series(questions, dtype=pl.String)).to_list(), 2)
    sig = minhash.signatures(sh, NUM_PERM, 1)
    bands, rows = lsh_params(threshold - 0.1, NUM_PERM)
    i, j = minhash.candidate_pairs(sig, bands, rows)
    keep = minhash.jaccard(sh, i, j) >= threshold
    return i[keep], j[keep]


def hold_in_train(
    split_of: dict[str, str], group: list[str], i: np.ndarray, j: np.ndarray
) -> tuple[dict[str, str], set[str]]:
    """Group key -> split, with every validation group that has a near pair (i[k], j[k]: row
    numbers; `group[row]`: its group key) in train moved to train, repeated until no pair
    straddles (a moved group can bring its own near pairs into train); and the groups moved."""
    split, moved = dict(split_of), set()
    gi, gj = [group[x] for x in i.tolist()], [group[x] for x in j.tolist()]
    while True:
        now = {
            b if split[a] == "train" else a
            for a, b in zip(gi, gj, strict=True)
            if {split[a], split[b]} == {"train", "validation"}
        }
        if not now:
            return split, moved
        for g in now:
            split[g] = "train"
        moved |= now
