"""The variant score: how much two questions with the same answer share, weighted by rarity.

Reworded riddles share little surface text (the Santa pair: character Jaccard 0.36, bigram
Jaccard 0.17), and most of what they share is template (什么…, 什么东西…, 为什么…, 哪…). So
features (characters and character bigrams of the match key) are weighted by an IDF over the
corpus's distinct riddles, template characters count a tenth, and the score is the weighted
cosine of the two feature sets: W(A ∩ B) / sqrt(W(A) · W(B)).

>>> santa = ["什么人一年只上一天班还不怕被解雇", "什么人一年中只工作一天却永远不会被炒鱿鱼"]
>>> s = variant_scores([*santa, "什么床不能睡"], [0, 0], [1, 2])
>>> [round(float(x), 2) for x in s]
[0.31, 0.08]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from curate.stages.dedupe import codes, glyph, keys, minhash, spare

# Question-template and function characters: shared by thousands of unrelated riddles.
TEMPLATE = "什么为哪谁怎样东西是的了吗呢啊个种有人"
TEMPLATE_WEIGHT = 0.1
# IDF smoothing: behave as if the corpus had this many more riddles, none containing the
# feature. A tiny corpus then weighs features evenly instead of zeroing everything shared.
PRIOR_DOCS = 1000
# A character in more than this share of the questions is template too (的, 上, 里, 子 in a
# corpus of 歇后语): it says nothing about which riddle a question is.
TEMPLATE_DF = 0.02
_CHUNK = 1 << 20  # shared entries scored at a time
# `relax` of a pair (pair_features): fewer than min_shared content bigrams may still do for
# brain teasers and 谜语 (a character that is not template) and for two 字谜 (clue
# characters, `glyph.py`) and for two 歇后语 (one content bigram); RELAX_NONE: they never do.
RELAX_NONE, RELAX_PLAIN, RELAX_GLYPH, RELAX_SAYING = 0, 1, 2, 3


def features(texts: list[str] | minhash.Shingles) -> minhash.Shingles:
    """Characters and character bigrams of each text, one shingle set per text (or as given)."""
    if isinstance(texts, minhash.Shingles):
        return texts
    points = minhash.codepoints(texts)  # converted once for both
    (c1, d1), (c2, d2) = (minhash.ngram_codes(texts, n, points) for n in (1, 2))
    # Each text's characters, then its bigrams (documents stay sorted): placed directly, in
    # the order a stable sort by document of the two lists would give, without the sort.
    k1, k2 = np.bincount(d1, minlength=len(texts)), np.bincount(d2, minlength=len(texts))
    start = np.concatenate(([0], np.cumsum(k1 + k2)[:-1])).astype(np.int64)
    pos1 = start[d1] + np.arange(d1.size) - np.repeat(np.cumsum(k1) - k1, k1)
    pos2 = start[d2] + k1[d2] + np.arange(d2.size) - np.repeat(np.cumsum(k2) - k2, k2)
    code = np.empty(c1.size + c2.size, dtype=np.uint64)
    doc = np.empty(code.size, dtype=np.int64)
    code[pos1], code[pos2], doc[pos1], doc[pos2] = c1, c2, d1, d2
    del points, c1, c2, d1, d2, pos1, pos2  # placed: not held while the codes are ranked
    uniq, sid = codes.unique_codes(code)
    return minhash.Shingles(code, doc, len(texts), uniq, sid)


def weights(feats: minhash.Shingles) -> np.ndarray:
    """IDF per distinct feature over the texts, template-only features damped."""
    u = np.int64(feats.uniq.size)
    return _idf(feats, np.bincount(feats.members % u, minlength=feats.uniq.size), feats.n_docs)


def _idf(feats: minhash.Shingles, df: np.ndarray, n_docs: int) -> np.ndarray:
    idf = np.log((n_docs + PRIOR_DOCS) / (df + 1.0))
    return np.where(_is_template(feats.uniq), idf * TEMPLATE_WEIGHT, idf)


def _chars(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A feature code's first and second character (0: none, a single character)."""
    return codes & np.uint64((1 << 21) - 1), codes >> np.uint64(21)


def _is_template(codes: np.ndarray) -> np.ndarray:
    """Features made only of template characters (什, 什么, 东西, ...)."""
    template = np.array([ord(c) for c in TEMPLATE], dtype=np.uint64)
    low, high = _chars(codes)
    return np.isin(low, template) & ((high == 0) | np.isin(high, template))


def _is_category(codes: np.ndarray) -> np.ndarray:
    """Features with the character `keys.content_keys` puts for the kind a question asks
    for (什么动物): template for content, not for the score."""
    base, top = np.uint64(keys.CATEGORY_BASE), np.uint64(keys.CATEGORY_BASE + 0xFF)
    return np.logical_or.reduce([(c >= base) & (c <= top) for c in _chars(codes)])


def content_bigrams(codes: np.ndarray) -> np.ndarray:
    """Which feature codes are the bigrams `variant_min_shared` counts: two characters, not
    both template, neither a category."""
    return ((codes >> np.uint64(21)) > 0) & ~_is_template(codes) & ~_is_category(codes)


def plain_chars(codes: np.ndarray) -> np.ndarray:
    """Which feature codes are single characters that are neither template nor a category
    (what a pair that may merge on a specific answer must share)."""
    return ((codes >> np.uint64(21)) == 0) & ~_is_template(codes) & ~_is_category(codes)


def variant_scores(texts: list[str], i, j) -> np.ndarray:
    """Weighted cosine of texts[i[k]] and texts[j[k]], IDF taken over `texts`."""
    return variant_evidence(texts, i, j)[0]


def variant_evidence(texts: list[str], i, j) -> tuple[np.ndarray, np.ndarray]:
    """The weighted cosine, and how many bigrams that are not pure template both share.

    The count guards short texts (`variant_min_shared`, default 2): 云彩里摆手 / 飞机上摆手
    (one bigram, 摆手, in common) are two sayings; 鼻梁上推小车 / 鼻子上推小车 (上推, 推小,
    小车) are one. At 1 brain-teaser rewordings merge more often (什么车寸步难行？ /
    什么车一步也走不了？) but so do different riddles on one answer (身体白又长…越烧越短小 /
    什么东西越长越短？, both 蜡烛): bench/README.md has both trade-offs.
    """
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    feats = features(texts)
    content = content_bigrams(feats.uniq).astype(np.float64)
    (inter, size), (shared, _) = minhash.set_overlap(feats, i, j, [weights(feats), content])
    norm = np.sqrt(size[i] * size[j])
    score = np.where(norm > 0, inter / np.maximum(norm, 1e-12), 0.0)
    return score, np.rint(shared).astype(np.int64)


@dataclass(frozen=True)
class PairFeatures:
    """Candidate pairs with their shared features, looked up once and then scored under the
    IDF of any subset of the texts (the variant passes shrink the set of survivors a little
    each time; the lookup is the expensive part, the re-weighting a few bincounts). Texts
    and pairs can be added (`extend`): the entries stay sorted by pair."""

    feats: minhash.Shingles
    i: np.ndarray  # pairs (texts i[k], j[k]) with enough shared content bigrams
    j: np.ndarray
    shared: np.ndarray  # content bigrams both share
    entry_pair: np.ndarray  # each shared feature: its pair (sorted), and its member index
    entry_at: np.ndarray

    @cached_property
    def entry_start(self) -> np.ndarray:
        """The first entry of each pair, and the number of entries at the end."""
        count = np.bincount(self.entry_pair, minlength=self.i.size)
        return np.concatenate(([0], np.cumsum(count)))


def pair_features(texts: list[str], i, j, min_shared: int, relax=None, shared=None) -> PairFeatures:
    """`variant_evidence`'s lookup, keeping only pairs sharing >= min_shared content bigrams
    (that count does not depend on the weights, so the rest can never merge), or, where
    `relax` (per pair) is RELAX_PLAIN (may merge on a specific answer, `variants.py`),
    sharing a character that is not template (a superset of sharing a content character),
    where it is RELAX_GLYPH, sharing glyph.MIN_SHARED clue characters, and where it is
    RELAX_SAYING (two 歇后语), sharing one content bigram. `shared`:
    the content bigrams each pair shares, when the caller counted them and kept only pairs
    that pass (`variants._new_pairs`): every pair is then kept, uncounted."""
    return _lookup(features(texts), i, j, min_shared, relax, shared)


def extend(
    pf: PairFeatures | None, texts: list[str], i, j, min_shared: int, relax=None, shared=None
) -> PairFeatures:
    """`pf` with `texts` appended (numbered after its own texts) and the pairs (i, j) of the
    combined texts looked up: only the new pairs cost a lookup.

    The old entries stay valid: members are sorted by text, then by feature code, and the old
    texts keep their numbers and their features, so each member keeps its position."""
    if pf is None:
        return pair_features(texts, i, j, min_shared, relax, shared)
    feats = _merge(pf.feats, features(texts))
    new = _lookup(feats, i, j, min_shared, relax, shared)
    # Appended in the room pf keeps after its arrays (`spare.py`); pf gives the room up.
    room = pf.__dict__.pop("room", (None, None))
    pairs, by_pair = spare.appended((pf.i, pf.j, pf.shared), (new.i, new.j, new.shared), room[0])
    olds, news = (pf.entry_pair, pf.entry_at), (new.entry_pair + pf.i.size, new.entry_at)
    entries, by_entry = spare.appended(olds, news, room[1])
    grown = PairFeatures(feats, *pairs, *entries)
    grown.__dict__["room"] = (by_pair, by_entry)
    if "entry_start" in pf.__dict__:  # the old pairs' starts kept: a count of the new only
        start = np.concatenate((pf.entry_start[:-1], new.entry_start + pf.entry_pair.size))
        grown.__dict__["entry_start"] = start
    return grown


def _merge(a: minhash.Shingles, b: minhash.Shingles) -> minhash.Shingles:
    """The shingles of a's texts, then b's (b's texts numbered after a's), slim (`_slim`).
    The members are built without a sort: renumbering the features keeps their order. b's
    few texts bring few features a lacks (tens, where a has ~300k at a million records):
    they are put in place in a's sorted codes, and a's members are renumbered only if any."""
    at = np.minimum(np.searchsorted(a.uniq, b.uniq), max(a.uniq.size - 1, 0))
    fresh = b.uniq[a.uniq[at] != b.uniq] if a.uniq.size else b.uniq  # sorted
    uniq = np.insert(a.uniq, np.searchsorted(a.uniq, fresh), fresh)
    n, ua, ub = np.int64(uniq.size), np.int64(a.uniq.size), np.int64(b.uniq.size)
    rb = np.searchsorted(uniq, b.uniq)
    old = a.members
    if fresh.size:  # each of a's features moves up by the new ones before it
        ra = np.arange(ua) + np.searchsorted(fresh, a.uniq)
        old = old // ua * n + ra[old % ua]
    members = np.concatenate((old, (b.members // ub + a.n_docs) * n + rb[b.members % ub]))
    starts = np.concatenate((a.starts[:-1], b.starts + a.members.size))  # the runs: in place
    return _slim(a.n_docs + b.n_docs, uniq, members, starts)


def _slim(n_docs: int, uniq: np.ndarray, members: np.ndarray, starts=None) -> minhash.Shingles:
    """Shingles holding only what scoring reads (the members, the distinct codes, the runs'
    starts): the per-occurrence arrays (code, doc, sid) are twice the members' size."""
    none = np.zeros(0, dtype=np.int64)
    slim = minhash.Shingles(none.astype(np.uint64), none, n_docs, uniq, none)
    slim.__dict__["members"] = members  # the cached properties, filled in
    if starts is not None:
        slim.__dict__["starts"] = starts
    return slim


def _lookup(feats: minhash.Shingles, i, j, min_shared: int, relax=None, shared=None):
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    chunk = 1 << 17
    if shared is None:
        # First the content bigrams alone (a third of the features): most pairs of an answer
        # group share fewer than min_shared and are dropped before the full lookup.
        shared = _count_shared(feats, i, j, content_bigrams(feats.uniq), chunk)
        keep = shared >= min_shared
        if relax is not None:
            keep |= (relax == RELAX_SAYING) & (shared >= 1)
        if relax is not None and (low := np.flatnonzero(~keep & (relax == RELAX_PLAIN))).size:
            # May merge on a specific answer: at least a character that is not template.
            keep[low] = _count_shared(feats, i[low], j[low], plain_chars(feats.uniq), chunk) > 0
        if relax is not None and (low := np.flatnonzero(~keep & (relax == RELAX_GLYPH))).size:
            # Two 字谜 (`glyph.py`): at least glyph.MIN_SHARED clue characters.
            clue = _count_shared(feats, i[low], j[low], glyph.clue_chars(feats.uniq), chunk)
            keep[low] = clue >= glyph.MIN_SHARED
        i, j, shared = i[keep], j[keep], shared[keep]
    # Entries as int32 (pairs and members stay far below 2**31): the largest arrays kept.
    pairs, ats = [np.zeros(0, np.int32)], [np.zeros(0, np.int32)]
    for lo, pair, at in minhash.shared_members(feats, i, j, chunk):
        pairs.append((pair + lo).astype(np.int32))
        ats.append(at.astype(np.int32))
    slim = _slim(feats.n_docs, feats.uniq, feats.members, feats.__dict__.get("starts"))
    return PairFeatures(slim, i, j, shared, np.concatenate(pairs), np.concatenate(ats))


def _count_shared(feats: minhash.Shingles, i, j, which: np.ndarray, chunk: int) -> np.ndarray:
    """How many of the features where `which` (by feature) texts i[k] and j[k] share."""
    members = feats.members[which[feats.members % np.int64(feats.uniq.size)]]
    shared = np.zeros(i.size, dtype=np.int64)
    for lo, pair, _ in minhash.shared_members(feats, i, j, chunk, members):
        shared[lo : lo + chunk] = np.bincount(pair, minlength=i[lo : lo + chunk].size)
    return shared


@dataclass(frozen=True)
class Weights:
    """What each feature (by code, sorted) weighs: its IDF and whether it is a content
    character, over some set of texts; `fill` weighs a feature none of them has."""

    uniq: np.ndarray
    idf: np.ndarray
    content: np.ndarray
    fill: tuple[float, float, float]  # idf of a new feature, template or not; content: 1


def weights_of(pf: PairFeatures, live: np.ndarray) -> Weights:
    """The weights of the features of `pf` with the IDF over the texts where `live`."""
    u = np.int64(pf.feats.uniq.size)
    template = _is_template(pf.feats.uniq)
    df = np.bincount((pf.feats.members % u)[live[pf.feats.members // u]], minlength=u)
    n_live = int(live.sum())
    idf = np.log((n_live + PRIOR_DOCS) / (df + 1.0))
    idf = np.where(template, idf * TEMPLATE_WEIGHT, idf)  # as _idf
    content = content_chars(pf.feats.uniq, template, df, n_live).astype(np.float64)
    unseen = float(np.log(n_live + PRIOR_DOCS))
    return Weights(pf.feats.uniq, idf, content, (unseen * TEMPLATE_WEIGHT, unseen, 1.0))


def pair_scores(pf: PairFeatures, live: np.ndarray, start: int = 0) -> tuple[np.ndarray, ...]:
    """The weighted cosine of the pairs of `pf` from `start` on, with the IDF over the texts
    where `live` (equal to `variant_evidence` on just those texts: same sums in the same
    order), and the Jaccard of the two questions' content characters (`content_chars`)."""
    return scores(pf, weights_of(pf, live), start)


def scores(
    pf: PairFeatures, w: Weights, start: int = 0, only: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`pair_scores` under given weights (those of other texts: features matched by code).
    `only`: just these pairs (sorted indices; `start` is then 0), their values in that order.
    Each pair gets the same sums, added in the same order, with or without `only`."""
    u = np.int64(pf.feats.uniq.size)
    members = pf.feats.members
    if only is not None:  # the members of the scored pairs' texts (the same sums per text)
        seen = np.zeros(pf.feats.n_docs, dtype=bool)  # a mark per text: no sort of the pairs
        seen[pf.i[only]], seen[pf.j[only]] = True, True
        docs = np.flatnonzero(seen)
        if docs.size < pf.feats.n_docs:  # (all: each text's sums are the same)
            lo = pf.feats.starts[docs]
            members = members[_ranges(lo, pf.feats.starts[docs + 1] - lo)]
    doc, shingle = members // u, members % u
    idf, content = w.idf, w.content
    if w.uniq is not pf.feats.uniq:  # weights of other texts: look each feature up
        at = np.minimum(np.searchsorted(w.uniq, pf.feats.uniq), max(w.uniq.size - 1, 0))
        known = w.uniq[at] == pf.feats.uniq if w.uniq.size else np.zeros(u, dtype=bool)
        template, single = _is_template(pf.feats.uniq), (pf.feats.uniq >> np.uint64(21)) == 0
        new_idf = np.where(template, w.fill[0], w.fill[1])
        idf = np.where(known, idf[at] if w.uniq.size else 0.0, new_idf)
        new_content = np.where(single & ~template & ~_is_category(pf.feats.uniq), w.fill[2], 0.0)
        content = np.where(known, content[at] if w.uniq.size else 0.0, new_content)
    size = np.bincount(doc, weights=idf[shingle], minlength=pf.feats.n_docs)
    csize = np.bincount(doc, weights=content[shingle], minlength=pf.feats.n_docs)
    i, j, n = pf.i[start:], pf.j[start:], pf.i.size - start
    if only is not None:
        i, j, n = pf.i[only], pf.j[only], only.size
    inter, cshared = np.zeros(n), np.zeros(n)
    # The shared entries (millions at a million records) summed a chunk at a time: their
    # weights are not all held at once, and the memory peak of dedupe is in this step.
    for pair, at in _entry_chunks(pf, start, only):
        entry = pf.feats.members[at] % u
        inter += np.bincount(pair, weights=idf[entry], minlength=n)
        cshared += np.bincount(pair, weights=content[entry], minlength=n)
    norm = np.sqrt(size[i] * size[j])
    score = np.where(norm > 0, inter / np.maximum(norm, 1e-12), 0.0)
    union = csize[i] + csize[j] - cshared
    return score, np.where(union > 0, cshared / np.maximum(union, 1), 0.0)


def _entry_chunks(pf: PairFeatures, start: int, only: np.ndarray | None):
    """(pair, member index) of the shared entries of the pairs from `start`, a chunk of
    _CHUNK entries at a time (pair counted from `start`). With `only`: just those pairs'
    entries of each of the same chunks (pair = place in `only`), so that a pair's partial
    sums, and the order they are added in, are the same."""
    if only is None:
        first = int(np.searchsorted(pf.entry_pair, pf.entry_pair.dtype.type(start)))
        for lo in range(first, pf.entry_pair.size, _CHUNK):
            yield pf.entry_pair[lo : lo + _CHUNK] - start, pf.entry_at[lo : lo + _CHUNK]
        return
    first = int(pf.entry_start[start])
    lo, count = pf.entry_start[only], pf.entry_start[only + 1] - pf.entry_start[only]
    pos, pair = _ranges(lo, count), np.repeat(np.arange(only.size), count)
    cuts = np.searchsorted(pos, np.arange(first, pf.entry_pair.size + _CHUNK, _CHUNK))
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if b > a:
            yield pair[a:b], pf.entry_at[pos[a:b]]


def _ranges(lo: np.ndarray, count: np.ndarray) -> np.ndarray:
    """lo[0] .. lo[0] + count[0] - 1, then lo[1] ..., concatenated."""
    return np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))


def content_chars(uniq: np.ndarray, template: np.ndarray, df: np.ndarray, n: int) -> np.ndarray:
    """Which features are content characters: single characters that are neither template
    (TEMPLATE) nor common across the corpus, i.e. in at most TEMPLATE_DF of its n distinct
    questions (PRIOR_DOCS more counted, so a small corpus only drops TEMPLATE). The question
    texts reach here with their markers (打一字, 猜一猜 ...) already cut (`content.strip`)."""
    single = (uniq >> np.uint64(21)) == 0
    common = df > TEMPLATE_DF * (n + PRIOR_DOCS)
    return single & ~template & ~common & ~_is_category(uniq)
