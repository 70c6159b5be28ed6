"""LSH band buckets kept sorted between settle's near passes (`graph.verified_pairs`).

Each near pass looks for candidate pairs among the survivors' documents; from one pass to
the next a few hundred of ~85k change. `minhash.candidate_pairs` sorts every band's keys
afresh (16 sorts, most of a near pass's time); here each band's documents are kept sorted
by key, the ones gone dropped and the new ones put in place. The pairs are the same: a
bucket of up to `limit` documents gives all its pairs, whatever their order in it, and a
larger one a star to its member first in priority, found by the lowest rank rather than by
the order of a stable sort.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from curate.stages.dedupe import minhash


def candidate_pairs(sig, docs, bands: int, rows: int, priority, kept: dict):
    """`minhash.candidate_pairs(sig[docs], ..., priority)` as document ids (i < j, sorted):
    `docs` sorted ids, `priority` positions in `docs`, best first. `kept`: each band's
    documents in the order of their keys, of the documents the last call saw (updated here;
    int32: ~5 MB at a million records, where holding the keys too took ~22 MB)."""
    order = docs[np.asarray(priority)]  # documents, best first
    live = order[sig[order, 0] != minhash.EMPTY] if sig.size else order[:0]
    if live.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rank = np.empty(sig.shape[0], dtype=np.int64)
    rank[live] = np.arange(live.size)
    now = np.zeros(sig.shape[0], dtype=bool)
    now[live] = True
    was = kept.get("docs", np.zeros(sig.shape[0], dtype=bool))
    added = np.flatnonzero(now & ~was)
    live_sig = np.take(sig, live, axis=0)  # rows, by rank

    def one(band: int) -> np.ndarray:
        keys = minhash.band_key(live_sig, band, rows)  # by rank
        doc = kept.get(band, np.zeros(0, np.int32)).astype(np.int64)
        doc = doc[now[doc]]
        key, add_key = keys[rank[doc]], keys[rank[added]]
        by_key = np.argsort(add_key)  # any order among equal keys (see the module doc)
        at = np.searchsorted(key, add_key[by_key])
        key, doc = np.insert(key, at, add_key[by_key]), np.insert(doc, at, added[by_key])
        kept[band] = doc.astype(np.int32)  # the order only: the keys are found again
        return _bucket_pairs(key, doc, rank, live, minhash.ALL_PAIRS_UPTO)

    # Bands are independent: one per core at a time (numpy sorts release the GIL).
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        found = list(pool.map(one, range(bands)))
    kept["docs"] = now
    both = np.concatenate(found, axis=1)
    code = minhash.sorted_unique(np.minimum(both[0], both[1]) * sig.shape[0] + np.maximum(*both))
    return code // sig.shape[0], code % sig.shape[0]


def _bucket_pairs(key, doc, rank, live, limit: int) -> np.ndarray:
    """Pairs (2, k) of documents with equal keys: all of a bucket of up to `limit`, else a
    star to the bucket's best-ranked document (`rank`; `live`: the documents by rank)."""
    new = np.concatenate(([True], key[1:] != key[:-1]))
    start = np.flatnonzero(new)
    size = np.diff(np.append(start, key.size))
    run = np.cumsum(new) - 1
    out = [minhash.small_bucket_pairs(doc, start[run], size[run], limit).T]
    if (large := size > limit).any():
        hub = live[np.minimum.reduceat(rank[doc], start)[large]]  # best of each large bucket
        member = np.flatnonzero(large[run])
        hubs = np.repeat(hub, size[large])
        others = doc[member] != hubs
        out.append(np.stack((hubs[others], doc[member][others])))
    return np.concatenate(out, axis=1)
