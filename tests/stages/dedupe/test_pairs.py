"""The pairs of positions sharing a group, vectorized, are those of a loop over the groups."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from curate.stages.dedupe import pairs


@pytest.mark.parametrize("seed", range(5))
def test_group_and_run_pairs_equal_every_pair_of_each_group(seed):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, rng.integers(1, 30), rng.integers(0, 200))
    members = np.sort(rng.choice(group.size, rng.integers(0, group.size + 1), replace=False))
    want = [
        (int(a), int(b))
        for g in sorted(set(group[members].tolist()))
        for a, b in itertools.combinations(members[group[members] == g].tolist(), 2)
    ]
    got = pairs.group_pairs(members, group)
    assert list(zip(*(x.tolist() for x in got), strict=True)) == want
    ordered = np.sort(group)  # sorted values: positions are paired as they stand
    want = [
        (a, b)
        for a, b in itertools.combinations(range(ordered.size), 2)
        if ordered[a] == ordered[b]
    ]
    assert list(zip(*(x.tolist() for x in pairs.run_pairs(ordered)), strict=True)) == want
    later, right = pairs.partners(ordered)  # the left side as a count per position
    left = np.repeat(np.arange(ordered.size), later)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == want
