"""The variant passes' lookup cache: the pairs looked up so far, and their texts.

A full pass adds its new pairs (and those of the passes since the last full one) to one
`similarity.PairFeatures` of every pair looked up (`full_lookup`), scored under the IDF of
that pass; a pass in between scores its new pairs on their own, under the same weights
(`local_scores`). `cache` is the dict `variants.variant_edges` carries across passes.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.stages.dedupe import keys, similarity, synonyms
from curate.stages.dedupe.rank import GLYPH, PLAIN, SHARED


def nodes_of(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The nodes of the pairs, sorted (a mark per node: no sort of millions of pairs)."""
    seen = np.zeros(ids.n_nodes, dtype=bool)
    seen[u], seen[v] = True, True
    return np.flatnonzero(seen)


def texts(ids, nodes: np.ndarray, cache: dict, plain: bool = False) -> list[str]:
    """The content keys of the nodes' questions, each computed once (`cache["text"]`), with
    one form for words that name one thing (`synonyms`); `plain`: as written."""
    if "text" not in cache:
        cache["text"] = np.full(ids.n_nodes, None, dtype=object)
        cache["plain"] = np.full(ids.n_nodes, None, dtype=object)
    text = cache["text"]
    todo = nodes[text[nodes] == None]  # noqa: E711 (elementwise)
    if todo.size:
        rows, keyed = ids.row[ids.node_first[todo]], cache.get("qkey")  # (`variant_edges`)
        keyed = None if keyed is None else keyed.gather(ids.node_first[todo])
        found = keys.content_keys(ids.questions.gather(rows), keyed)
        cache["plain"][todo] = found.to_list()
        same = synonyms.canonical(found)  # one form for words that name one thing
        glyph = pl.Series(np.flatnonzero(ids.node_kind[todo] == GLYPH))
        if glyph.len():  # 字谜 name components in words of their own (太阳 for 日)
            same = same.scatter(glyph, synonyms.canonical(found.gather(glyph), glyph=True))
        text[todo] = same.to_list()
    return (cache["plain"] if plain else text)[nodes].tolist()


def plain(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pairs that may merge on a specific answer: neither a 字谜 nor a 歇后语."""
    return (ids.node_kind[u] == PLAIN) & (ids.node_kind[v] == PLAIN)


def glyphs(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pairs of two 字谜 (`glyph.py`)."""
    return (ids.node_kind[u] == GLYPH) & (ids.node_kind[v] == GLYPH)


def relax(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """What may stand in for the variant_min_shared bigrams (similarity.RELAX_*)."""
    code = np.where(plain(ids, u, v), similarity.RELAX_PLAIN, similarity.RELAX_NONE)
    code = np.where(sayings(ids, u, v), similarity.RELAX_SAYING, code)
    return np.where(glyphs(ids, u, v), similarity.RELAX_GLYPH, code)


def sayings(ids, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pairs of two 歇后语: one content bigram in common may do (`rules.can_merge`)."""
    return (ids.node_kind[u] == SHARED) & (ids.node_kind[v] == SHARED)


def full_lookup(ids, u: np.ndarray, v: np.ndarray, paired, shared, config, cache: dict):
    """Add the pairs (u, v), and those of the passes since the last full one, to the lookup
    of every pair scored so far (`cache["pf"]`, texts numbered by `cache["slot"]`); and the
    texts of the nodes `paired` (the IDF is taken over all texts compared). `shared`: the
    content bigrams each pair shares, if counted (`variants._new_pairs`, which leaves the
    features it counted on in `cache["feats"]`: reused where they are those of the texts
    to add, as in the first pass)."""
    counted, feats = cache.pop("feats", (None, None))  # not held on: ~50 MB at 1M records
    if "pf" not in cache:
        cache["slot"] = np.full(ids.n_nodes, -1, dtype=np.int64)  # node -> its text
        cache["nodes"] = np.zeros(0, dtype=np.int64)  # text -> its node
        cache["pf"], cache["stale"] = None, np.zeros(0, dtype=bool)
    pending = cache.pop("pending", None)
    if pending is not None:
        u, v = np.concatenate((pending[0], u)), np.concatenate((pending[1], v))
        shared = None if shared is None else np.concatenate((pending[4], shared))
    pf, slot = cache["pf"], cache["slot"]
    if pf is not None and not u.size:
        return
    again = (slot[u] >= 0) & (slot[v] >= 0)
    if again.any():  # looked up before (apart or together): an older score is stale
        n_texts = np.int64(cache["nodes"].size)  # pairs coded by their texts' slots
        looked = np.sort(slot[u[again]] * n_texts + slot[v[again]])
        code = pf.i * n_texts + pf.j
        cache["stale"] |= looked[np.minimum(np.searchsorted(looked, code), looked.size - 1)] == code
    add = nodes_of(ids, np.concatenate((u, paired)), v)
    add = add[slot[add] < 0]
    slot[add] = cache["nodes"].size + np.arange(add.size)
    cache["nodes"] = np.concatenate((cache["nodes"], add))
    same = counted is not None and np.array_equal(add, counted)
    new, loose = feats if same else texts(ids, add, cache), relax(ids, u, v)
    pf = similarity.extend(pf, new, slot[u], slot[v], config.variant_min_shared, loose, shared)
    grown = np.zeros(pf.i.size - cache["stale"].size, dtype=bool)
    cache["stale"] = np.concatenate((cache["stale"], grown))
    cache["pf"] = pf


def local_scores(ids, u: np.ndarray, v: np.ndarray, shared, config, cache: dict):
    """Nodes, score and content overlap of the pairs (u, v) and of the earlier passes since
    the last full one, under the weights of that full pass (`cache["pending"]`)."""
    if u.size:
        add = nodes_of(ids, u, v)
        new, i, j = texts(ids, add, cache), np.searchsorted(add, u), np.searchsorted(add, v)
        loose = relax(ids, u, v)
        local = similarity.pair_features(new, i, j, config.variant_min_shared, loose, shared)
        score, content = similarity.scores(local, cache["weights"])
        found = (add[local.i], add[local.j], score, content, local.shared)
        if "pending" in cache:
            found = tuple(np.concatenate(x) for x in zip(cache["pending"], found, strict=True))
        cache["pending"] = found
    return cache["pending"]
