"""The survivor order's integer keys, packed into fewer, sort as the plain ones do."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curate.stages.dedupe import rank


def plain_keys(first, copies, qlen):
    return first, (rank._MANY - copies) * (1 << 31) + qlen


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("scale", [1, 1 << 58])  # the second: too large for one integer
def test_packed_keys_sort_and_tie_as_the_plain_keys(seed, scale):
    rng = np.random.default_rng(seed)
    n = 2000
    first = rng.integers(0, 6, size=n) * scale + rng.integers(0, 3, size=n)
    copies = rng.integers(1, 5, size=n)
    qlen = rng.integers(0, 4, size=n)
    third = rng.integers(0, 3, size=n)
    packed = rank.packed(first, copies, qlen)
    assert len(packed) == (1 if scale == 1 else 2)
    plain = (*plain_keys(first, copies, qlen), third)
    got = (*packed, third)
    order = np.lexsort(got[::-1])
    assert np.array_equal(order, np.lexsort(plain[::-1]))
    # equal neighbours on every key, the ties broken by text, are the same pairs
    same = [np.all([k[order][1:] == k[order][:-1] for k in keys], axis=0) for keys in (got, plain)]
    assert np.array_equal(*same)


def test_packed_keys_of_no_rows():
    empty = np.empty(0, dtype=np.int64)
    assert [k.size for k in rank.packed(empty, empty, empty)] == [0]


def test_ranked_on_one_chunk_per_core_equals_ranked_in_one_chunk(xiehouyu_path, monkeypatch):
    """The keys step matches and keys its strings in one chunk per core (`keys.per_core`):
    the same ranked frame as in one chunk, with hex content hashes and with others."""
    from dedupe_frames import xiehouyu_frame

    from curate.stages.dedupe import keys

    df = xiehouyu_frame(xiehouyu_path).head(3000).with_columns(riddle_type=pl.lit("歇后语"))
    df = df.with_columns(answer=pl.col("answer") + pl.Series(["", "。", "…"] * 1000))
    odd = df.with_columns(content_hash=pl.col("content_hash").str.slice(0, 3))
    for data in (df, odd):
        monkeypatch.setattr(keys, "_SPLIT_FROM", 100)
        split = rank.ranked(data, ())
        monkeypatch.setattr(keys, "_SPLIT_FROM", 10**9)
        assert split.equals(rank.ranked(data, ()))


@pytest.mark.parametrize("n_keys", [1, 2, 3])
@pytest.mark.parametrize("n", [0, 1, 5000])
def test_sorted_order_is_lexsort(n_keys, n):
    """The polars sort of the rank keys is np.lexsort's order, ties kept in input order."""
    rng = np.random.default_rng(n * 10 + n_keys)
    keys = tuple(rng.integers(0, 1 << rng.integers(2, 62), size=n) for _ in range(n_keys))
    assert np.array_equal(rank._sorted_order(keys), np.lexsort(keys[::-1]))
