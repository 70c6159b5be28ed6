"""Star (center) clustering in survivor order: no chained merges.

Nodes are numbered best survivor first. Visiting them in that order, a node not yet taken
becomes a center and takes every untaken node it has a verified edge with; so every removed
node is linked directly to its survivor, and two survivors never share an edge (deduping the
output again finds nothing to merge). A chain A~B~C with A, C unrelated keeps A and C.

The greedy visit is the lexicographically first maximal independent set; it is computed in
rounds over the edge arrays (numpy) instead of node by node: a node is decided once all its
better neighbours are; it is a center when none of them is, else it joins the best center
among them. Rounds are as many as the longest chain of dependent decisions (a handful).

>>> star(3, np.array([0, 1]), np.array([1, 2])).tolist()  # A~B, B~C: C stays its own center
[0, 0, 2]

A node that bridges two riddles (`bridges.py`) is visited after all others (`last`): the
others in order first, then those. The same rounds run on the nodes renumbered in that order.

>>> star(3, np.array([0, 0]), np.array([1, 2]), np.array([True, False, False])).tolist()
[1, 1, 2]
"""

from __future__ import annotations

import numpy as np

_UNDECIDED = -1


def star(n: int, u: np.ndarray, v: np.ndarray, last: np.ndarray | None = None) -> np.ndarray:
    """Center of each of n nodes under edges u-v (any order, duplicates allowed). `last`:
    nodes visited after all the others (bridges between two riddles, `bridges.py`)."""
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    if last is not None and last.any():
        order = np.concatenate((np.flatnonzero(~last), np.flatnonzero(last)))
        place = np.empty(n, dtype=np.int64)
        place[order] = np.arange(n)
        return order[_star(n, place[u], place[v])[place]]
    return _star(n, u, v)


def _star(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keep = lo != hi
    lo, hi = lo[keep], hi[keep]
    center = np.full(n, _UNDECIDED, dtype=np.int64)
    has_better = np.zeros(n, dtype=bool)
    has_better[hi] = True
    center[~has_better] = np.flatnonzero(~has_better)
    while lo.size:
        cl = center[lo]
        # Best (lowest) center and lowest undecided among each node's better neighbours.
        best_center = np.full(n, n, dtype=np.int64)
        is_center = cl == lo
        np.minimum.at(best_center, hi[is_center], lo[is_center])
        first_open = np.full(n, n, dtype=np.int64)
        is_open = cl == _UNDECIDED
        np.minimum.at(first_open, hi[is_open], lo[is_open])
        todo = np.flatnonzero((center == _UNDECIDED) & has_better)
        joins = todo[best_center[todo] < first_open[todo]]
        alone = todo[(best_center[todo] == n) & (first_open[todo] == n)]
        center[joins] = best_center[joins]
        center[alone] = alone
        if not (joins.size or alone.size):  # cannot happen: the lowest undecided is free
            raise AssertionError("star clustering made no progress")
        live = center[hi] == _UNDECIDED
        lo, hi = lo[live], hi[live]
    return center


def centers(n: int, edges, with_conflicts: bool = False, last=None) -> np.ndarray:
    """`star` over a polars edge list (u, v, kind): conflicts merge only when asked."""
    import polars as pl

    if not with_conflicts:
        edges = edges.filter(pl.col("kind") != "conflict")
    return star(n, edges["u"].to_numpy(), edges["v"].to_numpy(), last)


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Each node's component under edges u-v, named by its lowest node. Roots hook onto the
    lowest root across an edge, then pointers jump until flat, until no edge joins two
    roots (a few rounds; numpy, where scipy's import alone took longer than the variant
    graph's components)."""
    label = np.arange(n, dtype=np.int64)
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    while u.size:
        a, b = label[u], label[v]  # roots: the labels are flat
        apart = a != b
        if not apart.any():
            break
        a, b, u, v = a[apart], b[apart], u[apart], v[apart]
        # The higher root points at the lowest root it meets: pointers only decrease, so
        # the lowest node of a component stays its root.
        np.minimum.at(label, np.maximum(a, b), np.minimum(a, b))
        while True:
            up = label[label]
            if (up == label).all():
                break
            label = up
    return label


def grow(
    center: np.ndarray,
    comp: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    new: int,
    last: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`star` and `components` after the last `new` edges of u-v joined a graph whose centers
    and components were `center` and `comp`. A node's center depends on its component only,
    so only the components the new edges touch are clustered again (tens of nodes each,
    where the whole graph has hundreds of thousands): the same centers as `star(n, u, v)`."""
    if not new:
        return center, comp
    a, b = comp[u[-new:]], comp[v[-new:]]
    names = np.unique(np.concatenate((a, b)))  # sorted: a merged component's lowest first
    joined = components(names.size, np.searchsorted(names, a), np.searchsorted(names, b))
    rename = np.arange(comp.size)
    rename[names] = names[joined]
    comp = rename[comp]
    touched = np.zeros(comp.size, dtype=bool)
    touched[names[joined]] = True
    touched = touched[comp]  # by node
    nodes = np.flatnonzero(touched)  # the nodes of the touched components, sorted
    inside = touched[u]  # their edges (both ends share a component)
    place = np.full(comp.size, -1, dtype=np.int64)
    place[nodes] = np.arange(nodes.size)  # order kept: the lowest node stays the best
    center = center.copy()
    late = None if last is None else last[nodes]
    center[nodes] = nodes[star(nodes.size, place[u[inside]], place[v[inside]], late)]
    return center, comp
