"""字谜 variants: two clues for one glyph are one riddle when they name the same components.

A character riddle's clue spells out the parts of its answer (十张口，一颗心 -> 思: 十, 口, 一,
心), so a rewording keeps those characters while the words around them change (十个口，一个心:
no bigram but 口一 in common, content Jaccard low once the corpus-common 十, 口, 一 are cut).
Different riddles for one glyph take it apart another way (四面都是山 / 口中有十 -> 田;
十张口，一颗心 / 田下有心 -> 思) and share a character or none. So two 字谜 with one answer are
one riddle when they share at least 2 clue characters and those are at least
`glyph_overlap` of the shorter clue's and 0.3 of the longer clue's (`LONGER_SHARE`): the
characters of the question key (markers such as 打一字 cut) other than grammatical particles,
measure words and 字 有 在 旁 边 里 上 下. Template characters count here (人 is a part: 人在门里
-> 闪), and so do common ones (口, 一, 十). A clue that holds all of a short one's parts among
many of its own builds the glyph another way: 饺子不要食，添上一张口 takes 交 out of 饺, where
交上一张口 names it (咬; 2 of 3 and 2 of 8), and 池字去水，牵来一匹马 is not 马也来了 (驰).

>>> import numpy as np
>>> a = ["十张口一颗心", "人在门里", "十张口一颗心"]
>>> b = ["十个口一个心", "门里站着一个人", "田下有心"]
>>> shared, overlap, of_longer = clue_overlap(a, b)
>>> shared.tolist(), np.round(overlap, 2).tolist(), np.round(of_longer, 2).tolist()
([4, 2, 1], [1.0, 1.0, 0.5], [1.0, 0.5, 0.25])
"""

from __future__ import annotations

import numpy as np

from curate.stages.dedupe import minhash

# Particles, measure words (十个口 / 十口) and the words that say where a part is (禾下有乃 /
# 乃字上面一棵禾: 字, 有, 在, 旁, 边, 里, 上, 下): rewordings add and drop them, and two different
# clues share them (手旁有旦 / 胆字换个提手旁, 担, and 乍下有心 / 作字丢了人，底下添颗心, 怎: one
# part in common). A component 上 or 下 (上下合, 卡) is lost with them; 中 is kept (忠, 仲).
PARTICLES = "的了着呢吗啊吧个棵张把座颗只条位根片块朵匹间扇粒滴轮字有在旁边里上下"
MIN_SHARED = 2  # clue characters two clues of one riddle share at least
# ... and the share of the longer clue's they are at least. On the tuning sets: two pairs of
# different riddles (and their bridges) apart, one rewording lost (圭字边上一寸 / 两土叠起来，
# 旁边一寸: 2 of 7, where 圭 is 两土).
LONGER_SHARE = 0.3
_PARTICLE_CODES = np.array([ord(c) for c in PARTICLES], dtype=np.uint64)


def clue_chars(codes: np.ndarray) -> np.ndarray:
    """Which feature codes are clue characters: single characters that are not particles."""
    return ((codes >> np.uint64(21)) == 0) & ~np.isin(codes, _PARTICLE_CODES)


def clue_overlap(a: list[str], b: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair (a[k], b[k]) of content keys: the distinct clue characters both have, and
    that count over the shorter one's and over the longer one's distinct clue characters (0
    when either has none)."""
    n = len(a)
    sides = []
    for texts in (a, b):
        code, doc = minhash.ngram_codes(texts, 1)
        keep = clue_chars(code)
        key = np.unique(doc[keep].astype(np.uint64) << np.uint64(21) | code[keep])
        sides.append(key)
    size = [np.bincount((k >> np.uint64(21)).astype(np.int64), minlength=n) for k in sides]
    both = np.sort(np.concatenate(sides))
    twice = both[1:][both[1:] == both[:-1]]  # a key in both sides (each side is distinct)
    shared = np.bincount((twice >> np.uint64(21)).astype(np.int64), minlength=n)
    shorter, longer = np.minimum(size[0], size[1]), np.maximum(size[0], size[1])
    overlap = np.where(shorter > 0, shared / np.maximum(shorter, 1), 0.0)
    return shared, overlap, shared / np.maximum(longer, 1)


def one_riddle(a: list[str], b: list[str], threshold: float) -> np.ndarray:
    """Which pairs of 字谜 content keys with one answer are one riddle (module docstring)."""
    shared, overlap, of_longer = clue_overlap(a, b)
    return (shared >= MIN_SHARED) & (overlap >= threshold) & (of_longer >= LONGER_SHARE)
