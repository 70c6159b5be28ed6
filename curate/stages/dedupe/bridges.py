"""Bridges: a record that says what two different riddles say.

A spliced or run-together copy B (什么鱼长着马头，却从来不会跑？: half of 什么鱼长着马头，还是
爸爸生孩子？, half of 什么马生活在水里，却从来不会跑？, both 海马) matches each riddle, and the
two do not match each other. As a star center B would absorb both, and two riddles would end
as one. Such a center is visited after every other node (`star.star`'s `last`): the riddles
become centers, B joins one of them, and the other stays. The result is still a fixed point
(no two survivors share an edge, whatever the visiting order), so a second run removes nothing.

A center B bridges two of its members A and C when
- A and C have no edge, and one of them is joined to B by variant links only;
- neither is a copy of B: each has a run of OWN or more characters that B lacks, or B has such
  a run beyond it (a copy with typos, cut short or with a word added has neither; 什么动物会
  顶球跳圈，睡觉还只闭一只眼？ holds all of 什么动物睡觉只闭一只眼 and says more);
- they share different parts of B: of the content bigrams each shares with B, at most
  OVERLAP of the fewer are shared by both (copies of one text share most of it).
Content here is the question's content key (`keys.content_keys`, without the word lists of
`synonyms`: a typo inside a listed word would read as new words) less template characters
(什么 东西) and the kind a question asks for (什么动物).
"""

from __future__ import annotations

import numpy as np

from curate.stages.dedupe import keys, lookup, minhash, pairs, similarity

OWN = 3
OVERLAP = 0.25
_TEMPLATE = np.array([ord(c) for c in similarity.TEMPLATE], dtype=np.uint32)


def hubs(ids, u, v, weak, center: np.ndarray, look: np.ndarray, cache: dict) -> np.ndarray:
    """Which star centers among `look` (`center`: each node's, under edges u-v; `weak`: the
    variant edges) bridge two of their members. `cache`: content texts (`qkey`, the question
    keys by ranked row, in it)."""
    n = ids.n_nodes
    out = np.zeros(n, dtype=bool)
    left, right = center[u] == v, center[v] == u  # member-center links
    member = np.concatenate((u[left], v[right]))
    close = np.zeros(n, dtype=bool)  # members with a near edge to their center
    close[member[~np.concatenate((weak[left], weak[right]))]] = True
    member = minhash.sorted_unique(member[look[center[member]]])
    # A member joined by variant links only, with a run of its own: only its cluster may hold
    # a bridge (at a million records none of ~90k such members has one).
    loose = member[~close[member]]
    loose = loose[_own(ids, loose, center[loose], cache) >= OWN]
    if not loose.size:
        return out
    open_ = np.zeros(n, dtype=bool)
    open_[center[loose]] = True
    member = member[open_[center[member]]]
    member = member[np.argsort(center[member], kind="stable")]  # by center, then node
    hub = center[member]
    # Neither a copy of the center: each has a run of its own, or the center one beyond it.
    wide = (_own(ids, member, hub, cache) >= OWN) | (_own(ids, hub, member, cache) >= OWN)
    member, hub = member[wide], hub[wide]
    i, j = pairs.run_pairs(hub)  # two wide members of one center, one joined by variants
    keep = ~close[member[i]] | ~close[member[j]]
    i, j = i[keep], j[keep]
    pair = np.minimum(member[i], member[j]) * np.int64(n) + np.maximum(member[i], member[j])
    nodes = minhash.sorted_unique(np.concatenate((member, hub)))
    inside = np.isin(u, nodes) & np.isin(v, nodes)
    linked = minhash.sorted_unique(
        np.minimum(u[inside], v[inside]) * np.int64(n) + np.maximum(u[inside], v[inside])
    )
    at = np.minimum(np.searchsorted(linked, pair), max(linked.size - 1, 0))
    i, j = i[linked[at] != pair], j[linked[at] != pair]
    sh = minhash.shingles(_texts(ids, nodes, cache), 2)
    grams = _grams(sh)
    doc, hdoc = np.searchsorted(nodes, member), np.searchsorted(nodes, hub)
    for a, c, b in zip(doc[i].tolist(), doc[j].tolist(), hdoc[i].tolist(), strict=True):
        center_grams = grams(b)
        sa, sc = grams(a) & center_grams, grams(c) & center_grams
        if sa and sc and len(sa & sc) <= OVERLAP * min(len(sa), len(sc)):
            out[nodes[b]] = True
    return out


def _own(ids, member: np.ndarray, hub: np.ndarray, cache: dict) -> np.ndarray:
    """The longest run of characters of each member's content text not in its center's."""
    texts = lookup.texts(ids, member, cache, plain=True)
    hubs_, which = np.unique(hub, return_inverse=True)  # ~7 members a center
    return _own_runs(texts, lookup.texts(ids, hubs_, cache, plain=True), which)


def _texts(ids, nodes: np.ndarray, cache: dict) -> list[str]:
    """The nodes' content keys as written (`lookup.texts`), less template and kind
    characters (`_content_chars`)."""
    chars, lengths = _content_chars(lookup.texts(ids, nodes, cache, plain=True))
    joined = chars.astype(np.uint32).tobytes().decode("utf-32-le")
    ends = np.cumsum(lengths).tolist()
    return [joined[a:b] for a, b in zip([0, *ends][:-1], ends, strict=True)]


def _own_runs(texts: list[str], others: list[str], which=None) -> np.ndarray:
    """For each k, the longest run of characters of texts[k] that are not in
    others[which[k]] (default: others[k]; template and kind characters left out of both)."""
    chars, lengths = _content_chars(texts)
    theirs, their_lengths = _content_chars(others)
    k = np.repeat(np.arange(len(texts)), lengths)
    present = minhash.sorted_unique(
        np.repeat(np.arange(len(others)), their_lengths) << 21 | theirs.astype(np.int64)
    )
    other = k if which is None else np.asarray(which, dtype=np.int64)[k]
    wanted = other << 21 | chars.astype(np.int64)
    spot = np.minimum(np.searchsorted(present, wanted), max(present.size - 1, 0))
    new = present[spot] != wanted if present.size else np.ones(wanted.size, dtype=bool)
    # A run's length: the characters since the last old one, or since the text's start.
    pos = np.arange(k.size)
    since = np.where(new, -1, pos)
    first = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1]))[: k.size])
    since[first] = np.where(new[first], first - 1, first)
    out = np.zeros(len(texts), dtype=np.int64)
    np.maximum.at(out, k, pos - np.maximum.accumulate(since) if k.size else pos)
    return out


def _content_chars(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The texts' code points less template and kind characters, and how many each keeps
    (numpy: a string replace of ~100k texts took longer than the runs)."""
    chars, lengths = minhash.codepoints(texts)
    kind = (chars >= keys.CATEGORY_BASE) & (chars <= keys.CATEGORY_BASE + 0xFF)
    keep = ~(np.isin(chars, _TEMPLATE) | kind)
    doc = np.repeat(np.arange(len(texts)), lengths)
    return chars[keep], np.bincount(doc[keep], minlength=len(texts))


def _grams(sh):
    """A document's shingles as a set (of shingle ids)."""
    start = np.searchsorted(sh.doc, np.arange(sh.n_docs + 1))

    def grams(d: int) -> set:
        return set(sh.sid[start[d] : start[d + 1]].tolist())

    return grams
