"""Ids numbered by first appearance: the no-sort path for small codes equals the sort."""

from __future__ import annotations

import numpy as np
import pytest

from curate.stages.dedupe import graph


@pytest.mark.parametrize("seed", range(10))
def test_first_seen_of_small_codes_equals_the_sorting_one(seed):
    rng = np.random.default_rng(seed)
    n, span = int(rng.integers(1, 500)), int(rng.integers(1, 80))
    codes = rng.integers(0, span, size=n) * int(rng.integers(1, 3))  # gaps: unused codes
    ids, first = graph._first_seen_small(codes)
    want_ids, want_first = graph._first_seen(codes)
    assert np.array_equal(ids, want_ids) and np.array_equal(first, want_first)


def test_first_seen_of_no_codes():
    ids, first = graph._first_seen_small(np.empty(0, dtype=np.int64))
    assert ids.size == 0 and first.size == 0
