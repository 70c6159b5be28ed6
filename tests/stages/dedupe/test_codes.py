"""Distinct feature codes found through a table of code points equal those of one sort."""

from __future__ import annotations

import numpy as np
import pytest

from curate.stages.dedupe import codes, minhash


@pytest.mark.parametrize("n", [0, 5, 70_000, 300_000])
def test_unique_codes_equal_unique_inverse(n):
    rng = np.random.default_rng(n)
    chars = rng.integers(1, 40_000, n).astype(np.uint64)
    alone = rng.random(n) < 0.5  # characters (and padded one-character bigrams), else bigrams
    second = np.where(alone, 0, rng.integers(1, 40_000, n)).astype(np.uint64)
    code = chars | (second << np.uint64(21))
    want, got = minhash.unique_inverse(code), codes.unique_codes(code)
    for a, b in zip(want, got, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
