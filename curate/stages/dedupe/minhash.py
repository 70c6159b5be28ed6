"""Batch MinHash + banded LSH over character n-grams, vectorized with numpy.

The method is datasketch's (`MinHash`, default `affine32` scheme, + `MinHashLSH` banding),
computed for all documents at once instead of one Python object per document. For the same
seed, `num_perm` and hash function (`shingle_hash`), `signatures(...)` equals datasketch's
`MinHash(num_perm, seed, hashfunc=shingle_hash).update_batch(shingles)` (tested).

>>> codes = shingles(["什么门永远关不上", "门"], n=2)
>>> codes.doc.tolist()  # 7 bigrams for the first text; the 1-char text is one shingle
[0, 0, 0, 0, 0, 0, 0, 1]
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

MAX_N = 3  # three 21-bit code points fill a uint64
ALL_PAIRS_UPTO = 16  # a band bucket this large gives all its pairs, a larger one a star
_M64 = (1 << 64) - 1
EMPTY = np.uint32(0xFFFFFFFF)  # the signature of a document with no shingles
# MurmurHash3 fmix32 constants, as datasketch's affine32 pre-mix.
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)


@dataclass(frozen=True)
class Shingles:
    """All n-grams of all documents: `code[k]` (packed code points) belongs to `doc[k]`."""

    code: np.ndarray  # uint64, in document order
    doc: np.ndarray  # int64, sorted
    n_docs: int
    uniq: np.ndarray  # the distinct codes, sorted
    sid: np.ndarray  # index of each code in `uniq`

    @cached_property
    def members(self) -> np.ndarray:
        """Each document's shingle set as sorted codes doc * len(uniq) + sid."""
        return sorted_unique(self.doc * np.int64(self.uniq.size) + self.sid)

    @cached_property
    def starts(self) -> np.ndarray:
        """Where each document's run of members starts, and their number at the end: found
        once, not again by each pass that reads some documents' runs."""
        return np.searchsorted(self.members, np.arange(self.n_docs + 1) * np.int64(self.uniq.size))


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and each value's index among them (np.unique, sort-based:
    numpy 2's hash-based unique is several times slower on a million integers). The order of
    equal values does not matter here, so the sort is polars' (all cores)."""
    order = pl.Series(values).arg_sort().to_numpy() if values.size > 1 << 16 else np.argsort(values)
    ordered = values[order]
    new = np.empty(ordered.size, dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(values.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable"), on all cores through polars (2-3x faster at 1M)."""
    if values.size <= 1 << 16:
        return np.argsort(values, kind="stable")
    frame = pl.DataFrame({"v": values}).with_row_index("r")
    return frame.sort("v", maintain_order=True)["r"].to_numpy().astype(np.int64)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique(values); a large array sorted on all cores through polars (the members of a
    million records' features: 0.02 s instead of 0.09)."""
    ordered = np.sort(values) if values.size <= 1 << 16 else pl.Series(values).sort().to_numpy()
    keep = np.empty(ordered.size, dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def codepoints(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code points of all texts, concatenated (uint32), and each text's length."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    chars = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    return chars, lengths


def shingles(texts: list[str], n: int = 2) -> Shingles:
    """Character n-grams packed as `c0 | c1 << 21 | c2 << 42`.

    A text shorter than n is one shingle of itself (zero-padded, and code point 0 never
    occurs in a match key, so it cannot collide with a real n-gram); an empty text has none.
    """
    code, doc = ngram_codes(texts, n)
    uniq, sid = unique_inverse(code)
    return Shingles(code, doc, len(texts), uniq, sid)


def ngram_codes(texts: list[str], n: int, points=None) -> tuple[np.ndarray, np.ndarray]:
    """`shingles`' packed codes and their documents (sorted), without the distinct codes.
    `points`: `codepoints(texts)`, if the caller has them (one conversion for several n)."""
    if not 1 <= n <= MAX_N:
        raise ValueError(f"n-gram size must be 1..{MAX_N}, got {n}")
    chars, lengths = codepoints(texts) if points is None else points
    # A text's n-grams start at 0 .. length - n (one, padded, if shorter; none if empty):
    # placed per n-gram, not per character (half the time at a million texts).
    count = np.where(lengths >= n, lengths - n + 1, np.minimum(lengths, 1))
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), count)
    skip = np.cumsum(lengths) - lengths - (np.cumsum(count) - count)  # text start - 1st gram
    where = np.arange(doc.size, dtype=np.int64) + np.repeat(skip, count)
    padded = np.concatenate((chars, np.zeros(n, dtype=np.uint32))).astype(np.uint64)
    code, short = padded[where], lengths[doc] if (lengths < n).any() else None
    for k in range(1, n):
        part = padded[where + k]
        if short is not None:  # past the end of a short text: zero, not the next text
            part[short <= k] = 0
        code |= part << np.uint64(21 * k)
    return code, doc


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer, then the high 32 bits: a 32-bit hash of a packed n-gram."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(32)).astype(np.uint32)


def shingle_hash(data: bytes | str) -> int:
    """The hash function, for one shingle: pass it to datasketch as `hashfunc`."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    code = 0
    for k, ch in enumerate(text):
        code |= ord(ch) << (21 * k)
    return int(_mix64(np.array([code & _M64], dtype=np.uint64))[0])


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    h = h ^ (h >> np.uint32(s1))
    h = h * np.uint32(m1)
    h = h ^ (h >> np.uint32(s2))
    h = h * np.uint32(m2)
    return h ^ (h >> np.uint32(s3))


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 parameters (`MinHash._init_permutations`): odd a, any b."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def signatures(sh: Shingles, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """MinHash signatures, shape (n_docs, num_perm) uint32; a doc without shingles is all-max.

    Distinct shingles are hashed and permuted once (a corpus repeats them a lot). Documents
    are then taken longest first, so that "documents with more than k shingles" is a prefix:
    step k folds every such document's k-th shingle into its running minimum. That is a few
    dozen contiguous np.minimum calls instead of a reduceat over millions of segments.
    """
    a, b = permutations(num_perm, seed)
    hv = _fmix32(_mix64(sh.uniq))
    if not sh.doc.size:
        return np.full((sh.n_docs, num_perm), EMPTY, dtype=np.uint32)
    count = np.bincount(sh.doc, minlength=sh.n_docs)
    # Each row written once, in place: an empty document's here, the others' by the folds
    # (a fill of every row first, and a joined copy of the folds, took 0.1-0.3 s at 1M).
    sig = np.empty((sh.n_docs, num_perm), dtype=np.uint32)
    sig[count == 0] = EMPTY
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    order = np.argsort(-count, kind="stable")
    order = order[count[order] > 0]
    first, length = start[order], count[order]

    def fold(cols: slice) -> np.ndarray:
        table = hv[:, None] * a[None, cols] + b[None, cols]  # uint32 arithmetic wraps: mod 2^32
        # np.take of rows, not table[...]: the same rows, several times faster.
        running = np.take(table, sh.sid[first], axis=0)
        for k in range(1, int(length[0])):
            n = int(np.searchsorted(-length, -k, side="left"))  # documents longer than k
            np.minimum(running[:n], np.take(table, sh.sid[first[:n] + k], axis=0), out=running[:n])
        sig[order, cols] = running

    # The permutations split into one block per core (numpy releases the GIL).
    workers = min(os.cpu_count() or 1, num_perm)
    blocks = [slice(w * num_perm // workers, (w + 1) * num_perm // workers) for w in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fold, blocks))
    return sig


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per (document, band): equal keys mean equal band values."""
    keys = np.empty((sig.shape[0], bands), dtype=np.uint64)
    for band in range(bands):
        keys[:, band] = band_key(sig, band, rows)
    return keys


def band_key(sig: np.ndarray, band: int, rows: int) -> np.ndarray:
    h = np.full(sig.shape[0], 0xCBF29CE484222325 ^ band, dtype=np.uint64)
    for col in sig[:, band * rows : (band + 1) * rows].T:
        h = (h ^ col.astype(np.uint64)) * np.uint64(0x100000001B3)  # FNV-1a style
    return h


def candidate_pairs(
    sig: np.ndarray,
    bands: int,
    rows: int,
    all_pairs_upto: int = ALL_PAIRS_UPTO,
    priority: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) of documents sharing a band bucket; empty documents take no part.

    A bucket of up to `all_pairs_upto` members gives all its pairs; a larger one (70 copies of
    one riddle) gives a star to its first member in `priority` order (default: lowest index;
    pass the most frequent text first, which is usually the unedited original), keeping the
    candidates linear in the corpus size.
    """
    order = np.arange(sig.shape[0]) if priority is None else np.asarray(priority)
    live = order[sig[order, 0] != EMPTY] if sig.size else np.zeros(0, np.int64)
    if live.size < 2:  # no pairs (and empty bands would trip the bucket arithmetic)
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    live_sig = np.take(sig, live, axis=0)  # rows; faster than sig[live]

    def one(band: int) -> np.ndarray:
        return bucket_pairs(band_key(live_sig, band, rows), all_pairs_upto)

    # Bands are independent: one per core at a time (numpy sorts release the GIL).
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        pairs = list(pool.map(one, range(bands)))
    both = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)
    i, j = live[both[:, 0]], live[both[:, 1]]
    code = sorted_unique(np.minimum(i, j) * sig.shape[0] + np.maximum(i, j))
    return code // sig.shape[0], code % sig.shape[0]


def bucket_pairs(k: np.ndarray, limit: int = ALL_PAIRS_UPTO) -> np.ndarray:
    """Pairs of positions in `k` (documents in priority order) with equal keys: every pair of
    a bucket of up to `limit` members, else a star to the bucket's first position."""
    order = np.argsort(k, kind="stable")
    k = k[order]
    new = np.concatenate(([True], k[1:] != k[:-1]))
    run_start = np.maximum.accumulate(np.where(new, np.arange(k.size), 0))
    run_id = np.cumsum(new) - 1
    size = np.bincount(run_id)[run_id]
    star = (~new) & (size > limit)
    stars = np.stack((order[run_start[star]], order[star]), axis=1)
    return np.concatenate((stars, small_bucket_pairs(order, run_start, size, limit)))


def small_bucket_pairs(
    order: np.ndarray, run_start: np.ndarray, size: np.ndarray, limit: int
) -> np.ndarray:
    """All pairs inside buckets of 2..limit members (positions in sorted order)."""
    out = []
    pos = np.flatnonzero((size >= 2) & (size <= limit))  # (most buckets have one member)
    after = run_start[pos] + size[pos] - pos  # each position's place from its bucket's end
    for gap in range(1, limit):
        k = pos[gap < after]
        out.append(np.stack((order[k], order[k + gap]), axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2), np.int64)


def set_overlap(
    sh: Shingles,
    i: np.ndarray,
    j: np.ndarray,
    weights: list[np.ndarray] | None = None,
    chunk: int = 1 << 17,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each weighting (default: count) and each pair (i[k], j[k]): the weighted size of
    the intersection of their shingle sets, and each document's weighted set size. Weights
    are per distinct shingle; several weightings share one lookup."""
    u = np.int64(sh.uniq.size)
    doc, shingle = sh.members // u, sh.members % u
    weights = weights or [np.ones(sh.uniq.size)]
    per_member = [w[shingle] for w in weights]
    inter = [np.zeros(i.size) for _ in weights]
    for lo, pair, at in shared_members(sh, i, j, chunk):
        part = slice(lo, lo + chunk)
        for total, mw in zip(inter, per_member, strict=True):
            total[part] = np.bincount(pair, weights=mw[at], minlength=total[part].size)
    return [
        (total, np.bincount(doc, weights=mw, minlength=sh.n_docs))
        for total, mw in zip(inter, per_member, strict=True)
    ]


def shared_members(
    sh: Shingles, i: np.ndarray, j: np.ndarray, chunk: int, members: np.ndarray | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(lo, pair, member index) of every shingle documents i[k] and j[k] share, k = lo + pair,
    chunk by chunk in order (the order `set_overlap` sums them). Chunks run on all cores
    (numpy's sort and search release the GIL), at most two per core in flight: bounded memory
    for millions of pairs. `members`: a subset of `sh.members` to look in (member indices
    then index that subset)."""
    u, member = np.int64(sh.uniq.size), sh.members if members is None else members
    if i.size * 8 < sh.n_docs:  # few pairs (a later pass): only their texts' runs are found
        docs = np.concatenate((i, j)).astype(np.int64)
        if members is None:  # members: sorted by text, then by code
            lo, hi = sh.starts[docs], sh.starts[docs + 1]
        else:
            lo, hi = np.searchsorted(member, docs * u), np.searchsorted(member, (docs + 1) * u)
        count, offset = np.zeros((2, sh.n_docs), dtype=np.int64)
        count[docs], offset[docs], shingle = hi - lo, lo, None
    else:
        doc, shingle = member // u, member % u
        count = np.bincount(doc, minlength=sh.n_docs)
        offset = np.concatenate(([0], np.cumsum(count)[:-1]))

    def one(lo: int) -> tuple[int, np.ndarray, np.ndarray]:
        part = slice(lo, lo + chunk)
        return (lo, *_lookup(member, shingle, count, offset, u, i[part], j[part]))

    workers, starts = os.cpu_count() or 1, iter(range(0, i.size, chunk))
    if i.size <= chunk:  # at most one chunk (each call of a later pass): no threads to start
        yield from map(one, starts)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending = deque(pool.submit(one, lo) for lo in itertools.islice(starts, 2 * workers))
        while pending:
            result = pending.popleft().result()
            if (lo := next(starts, None)) is not None:
                pending.append(pool.submit(one, lo))
            yield result


def _lookup(member, shingle, count, offset, u, i, j) -> tuple[np.ndarray, np.ndarray]:
    """(pair, member index) of every shingle the two sets of a pair share: each shingle of the
    smaller set is looked up in the other's with searchsorted on the sorted member codes."""
    i, j = np.where(count[i] < count[j], j, i), np.where(count[i] < count[j], i, j)
    pair = np.repeat(np.arange(i.size), count[j])
    first = np.concatenate(([0], np.cumsum(count[j])[:-1])).astype(np.int64)
    at = np.arange(pair.size) + np.repeat(offset[j] - first, count[j])
    query = i[pair] * u + (member[at] % u if shingle is None else shingle[at])
    found = member[np.minimum(np.searchsorted(member, query), member.size - 1)] == query
    return pair[found], at[found]


def jaccard(sh: Shingles, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """True Jaccard similarity of the shingle sets of documents i[k] and j[k] (set sizes from
    each document's run of members: no pass over every member for a few pairs)."""
    inter, chunk = np.zeros(i.size), 1 << 17
    for lo, pair, _ in shared_members(sh, i, j, chunk):
        inter[lo : lo + chunk] = np.bincount(pair, minlength=inter[lo : lo + chunk].size)
    size = np.diff(sh.starts)
    union = size[i] + size[j] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)
