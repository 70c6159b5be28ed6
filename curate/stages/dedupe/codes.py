"""Distinct feature codes (`similarity.features`: characters and character bigrams packed as
`c0 | c1 << 21`), and each code's index among them, as `minhash.unique_inverse` gives them.

A character's code is its code point, below 2**21: those are ranked through a table of every
code point (a pass, no sort), so only the bigrams, half the codes, are sorted. At 1M records
the first variant pass's 1.7M codes take 0.08 s instead of 0.16.
"""

from __future__ import annotations

import numpy as np

from curate.stages.dedupe import minhash

_POINTS = 1 << 21  # code points: a character's code is below, a bigram's at or above
_TABLE_FROM = 1 << 16  # fewer codes: one sort is cheaper than a pass over the table


def unique_codes(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct codes (uint64) and each code's index among them (int64)."""
    if code.size <= _TABLE_FROM:
        return minhash.unique_inverse(code)
    single = code < np.uint64(_POINTS)  # (a one-character text's padded bigram is one too)
    present = np.zeros(_POINTS, dtype=bool)
    present[code[single]] = True
    rank = np.cumsum(present, dtype=np.int32) - 1
    chars = np.flatnonzero(present).astype(np.uint64)
    bigrams, inverse = minhash.unique_inverse(code[~single])
    sid = np.empty(code.size, dtype=np.int64)
    sid[single], sid[~single] = rank[code[single]], inverse + chars.size
    return np.concatenate((chars, bigrams)), sid
