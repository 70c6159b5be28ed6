"""The clusters file's members, picked with numpy, against the plain group-by."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curate.stages.dedupe import review


def grouped_members(out: pl.DataFrame) -> pl.DataFrame:
    """The straightforward form: group removed records by text, take each group's best."""
    survivor = out.filter(~pl.col("removed")).select(
        "cluster",
        survivor_question="question",
        survivor_answer="answer",
        survivor_source="source",
        survivor_rank="_rank",
    )
    fields = ["id", "question", "answer", "source", "line", "kind", "score", "survivor_id"]
    return (
        out.filter(pl.col("removed"))
        .group_by("cluster", "node")
        .agg(pl.col(*fields, "_rank").sort_by("_rank").first(), copies=pl.len())
        .join(survivor, on="cluster")
        .sort("survivor_rank", "_rank")
    )


def random_out(seed: int, n: int = 300, external: bool = False) -> pl.DataFrame:
    """Per-record rows as `survivors` makes them: nodes in clusters around a center node,
    each center's best-ranked record kept; with `external`, some clusters' survivors are
    external records (not in the frame), and ranks leave gaps where they were."""
    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(1, 60))
    centers = rng.choice(n_nodes, size=int(rng.integers(1, n_nodes + 1)), replace=False)
    center = np.arange(n_nodes)
    others = np.setdiff1d(np.arange(n_nodes), centers)
    center[others] = rng.choice(centers, size=others.size)
    node = rng.integers(0, n_nodes, size=n)
    rank = rng.permutation(2 * n)[:n] if external else rng.permutation(n)
    removed = np.ones(n, dtype=bool)
    gone = set(rng.choice(centers, size=centers.size // 3).tolist()) if external else set()
    for c in set(centers.tolist()) - gone:
        rows = np.flatnonzero(node == c)
        if rows.size:
            removed[rows[np.argmin(rank[rows])]] = False
    texts = [f"问{i % 7}" for i in range(n)]
    return pl.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "source": [f"s{i % 3}.json" for i in range(n)],
            "line": np.arange(n) + 1,
            "question": texts,
            "answer": [f"答{i % 5}" for i in range(n)],
            "node": node,
            "cluster": center[node],
            "survivor_id": [f"c{c}" for c in center[node]],
            "removed": removed,
            "kind": rng.choice(["exact", "near_duplicate", "variant"], size=n),
            "score": rng.random(n).round(4),
            "_rank": rank.astype(np.uint32),
        }
    )


@pytest.mark.parametrize("external", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_members_equal_the_plain_group_by(seed, external):
    out = random_out(seed, external=external)
    got = review.cluster_members(out)
    assert got.equals(grouped_members(out).select(got.columns))
    assert got.columns == grouped_members(out).columns


def test_no_removed_records_no_members():
    out = random_out(0).with_columns(removed=pl.lit(False))
    assert review.cluster_members(out).height == 0
    assert review.cluster_members(out.head(0)).height == 0
