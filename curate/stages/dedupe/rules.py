"""Which variant pairs may merge, and by which rule (the conditions `variants.py` lists);
which of them a pass chooses as k, the riddles sharing an answer, falls."""

from __future__ import annotations

import numpy as np

from curate.stages.dedupe import glyph, lookup

# How a pair that `can_merge` may merge (its `rule`): on its score; on its score while its
# answer is specific; or, two 字谜 naming the same components, on that alone (`glyph.py`);
# or how it cannot: whatever its score (content characters, types, an override). Two brain
# teasers or 谜语 whose content characters overlap `specific_alone` may also merge on that
# alone while their answer is specific: ON_CONTENT (else by its score), SPECIFIC_CONTENT
# (else never).
BY_SCORE, SPECIFIC, SAME_CLUE, NEVER, ON_CONTENT, SPECIFIC_CONTENT = 0, 1, 2, 3, 4, 5


def chosen(config, cutoff, score, rule, pair_group, k) -> np.ndarray:
    """Pairs whose score reaches the cutoff for k riddles sharing their answer (k per answer
    group; the cutoff computed per group, then taken by each pair's group); those that may
    merge only on a specific answer (`can_merge`), only while k <= specific_k; and the
    字谜 with the same clue characters, whatever their score; and, while k <= specific_k,
    the pairs that may merge on their content alone (ON_CONTENT, SPECIFIC_CONTENT)."""
    cut, k = cutoff(config, k)[pair_group], k[pair_group]
    specific = k <= config.specific_k
    any_k = (rule == BY_SCORE) | (rule == ON_CONTENT)
    by_score = (score >= cut) & (any_k | ((rule == SPECIFIC) & specific))
    on_content = specific & ((rule == ON_CONTENT) | (rule == SPECIFIC_CONTENT))
    return by_score | on_content | (rule == SAME_CLUE)


def can_merge(ids, u, v, score, content, shared, forbid: set, config, cache: dict):
    """Pairs (u < v) whose score reaches the lowest cutoff and whose content characters
    overlap enough for their types, or two 字谜 with the same clue characters (`glyph.py`),
    and that no override keeps apart; and the rule each may merge by (`chosen`): SPECIFIC
    for those with fewer than variant_min_shared content bigrams in common (other riddles
    with content Jaccard >= specific_content; two 歇后语 with one are BY_SCORE), SAME_CLUE for
    those 字谜, ON_CONTENT / SPECIFIC_CONTENT for other riddles with content Jaccard >=
    specific_alone; NEVER for those that would not merge with any score."""
    strict = ~lookup.plain(ids, u, v)
    specific = shared < config.variant_min_shared
    saying = lookup.sayings(ids, u, v) & (shared >= 1)
    fits = (content > 0) & (~strict | (content >= config.content_threshold))
    fits &= ~specific | (~strict & (content >= config.specific_content)) | saying
    rule = np.where(specific & ~saying, SPECIFIC, BY_SCORE).astype(np.int8)
    alone = lookup.teasers(ids, u, v) & (content >= config.specific_alone)
    fits |= alone
    rule[alone] = np.where(specific[alone], SPECIFIC_CONTENT, ON_CONTENT)
    if (two := np.flatnonzero(lookup.glyphs(ids, u, v))).size:
        a, b = lookup.texts(ids, u[two], cache), lookup.texts(ids, v[two], cache)
        same = glyph.one_riddle(a, b, config.glyph_overlap)
        fits[two[same]], rule[two[same]] = True, SAME_CLUE
    if forbid:
        blocked = np.array([a * ids.n_nodes + b for a, b in forbid], dtype=np.int64)
        fits &= ~np.isin(u * ids.n_nodes + v, blocked)
    rule[~fits] = NEVER
    by_rule = (rule == SAME_CLUE) | (rule == ON_CONTENT) | (rule == SPECIFIC_CONTENT)
    return fits & ((score >= config.variant_threshold) | by_rule), rule


def carried(cache: dict, weights, n: int) -> np.ndarray:
    """The rules of a full pass's n pairs before scoring: NEVER where the last full pass
    found it, if no feature has since become or stopped being a content character (a
    pair's content overlap is a sum of those flags, so it is the same; at 1M records, after
    the second full pass, none does): 45% of the pairs then need no score. Else none."""
    rule, old = np.zeros(n, dtype=np.int8), cache.get("weights")
    if old is not None:  # the features only grow: the last pass's are all still there
        at = np.minimum(np.searchsorted(weights.uniq, old.uniq), weights.uniq.size - 1)
        if (
            np.array_equal(weights.uniq[at], old.uniq)
            and (weights.content[at] == old.content).all()
        ):
            rule[: cache["rule"].size][cache["rule"] == NEVER] = NEVER
    return rule
