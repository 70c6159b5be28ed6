"""All pairs of positions that share a value (an answer group, a feature), vectorized: the
candidate pairs of the variant passes (`variants.py`)."""

from __future__ import annotations

import numpy as np


def group_pairs(members: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j in sorted position) of `members` that share a group, vectorized."""
    order = members[np.argsort(group[members], kind="stable")]
    left, right = run_pairs(group[order])
    return order[left], order[right]


def run_pairs(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j) of positions with equal values in `g` (sorted), by i, then j."""
    later, right = partners(g)
    return np.repeat(np.arange(g.size), later), right


def partners(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`run_pairs` as each position's number of pairs (`later`: the left of the pairs is
    np.repeat(positions, later), so a value per position can be repeated, not gathered)
    and the right of each pair."""
    new = np.concatenate(([True], g[1:] != g[:-1])) if g.size else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(new, np.arange(g.size), 0))
    run = np.cumsum(new) - 1
    later = start + np.bincount(run)[run] - 1 - np.arange(g.size)  # partners after each
    first = np.cumsum(later) - later  # where each position's pairs start
    # The k-th pair of position i (from first[i]) is (i, i + 1 + k): one repeat for both.
    right = np.arange(int(later.sum())) + np.repeat(np.arange(1, g.size + 1) - first, later)
    return later, right
