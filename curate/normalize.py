"""Pure text normalization: display text (exported) and match key (dedupe only).

>>> display("  什麼人<b>一年</b>只上一天班？&nbsp;")
'什么人一年只上一天班？'
>>> match_key("什么人一年只上一天班？")
'什么人一年只上一天班'
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from functools import cache

CONVERSIONS = ("none", "t2s", "s2t", "tw2s", "hk2s", "t2tw", "t2hk", "s2tw", "s2hk", "tw2sp")

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_BR = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
# Scraped pages' scripts and styles: their content is code, never riddle text.
_CODE = re.compile(r"<(script|style)\b[^<>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# Zero-width and bidi marks, soft hyphen, BOM, variation selectors: invisible in print.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufe00-\ufe0f]")
# ...except a zero-width joiner inside an emoji sequence (👨‍👩‍👧 is a family, 👨👩👧 three
# people): kept between two astral characters, a variation selector allowed before it. (The
# column code removes every joiner: rows holding astral characters are done here instead.)
_ASTRAL = "[\U00010000-\U0010ffff]"
_STRAY = re.compile(
    f"(?!(?<={_ASTRAL})\u200d(?={_ASTRAL}))"
    f"(?!(?<={_ASTRAL}[\ufe00-\ufe0f])\u200d(?={_ASTRAL})){_INVISIBLE.pattern}"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[\s\u3000]+")
_CJK = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff0f\uff1a-\uff20"
    "\u2018-\u201d\u2026\u2014"
)
# A space between two CJK characters or CJK punctuation is layout residue, not content.
_CJK_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
# ASCII punctuation written after a Chinese character becomes its Chinese form.
_HALF_PUNCT = {"?": "？", "!": "！", ",": "，", ":": "：", ";": "；"}
_HALF_AFTER_CJK = re.compile(r"(?<=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])([?!,:;])")
_FULLWIDTH_ALNUM = {
    c: c - 0xFEE0
    for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for c in range(r[0], r[1] + 1)
}


@cache
def _converter(convert: str):
    import opencc

    return opencc.OpenCC(convert)


def _clean(text: str) -> str:
    """Invisible characters out, controls to spaces, NFC, full-width letters and digits folded."""
    text = _CONTROL.sub(" ", _STRAY.sub("", text))
    return unicodedata.normalize("NFC", text).translate(_FULLWIDTH_ALNUM)


def strip_html(text: str) -> str:
    """Resolve entities (repeatedly, for double-escaped text) and drop tags.

    Character cleanup runs inside the loop, since removing a zero-width space or folding a
    full-width letter can reveal a tag (`<\u200bb>`, `<ｂ>`) and an entity can produce one.
    """
    while True:  # each pass after the first shrinks the text, so this ends
        cleaned = _TAG.sub("", _BR.sub(" ", _CODE.sub("", html.unescape(_clean(text)))))
        if cleaned == text:
            return text
        text = cleaned


def content_hash(question: str, answer: str) -> str:
    """Hash of the match keys of question and answer: equal for exact duplicates."""
    key = f"{match_key(question)}\x1f{match_key(answer)}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def display(text: str, convert: str = "t2s") -> str:
    """Display text: HTML resolved, NFC, invisible chars gone, widths folded, OpenCC, spaces."""
    text = strip_html(text)
    if convert != "none":
        text = _converter(convert).convert(text)
    text = _HALF_AFTER_CJK.sub(lambda m: _HALF_PUNCT[m.group(1)], text)
    text = _SPACES.sub(" ", text).strip()
    return _CJK_SPACE.sub("", text)


class _DropTable(dict):
    """str.translate table deleting the code points of some Unicode categories (by their first
    letter: P punctuation, Z separators, S symbols, C controls); each code point's entry is
    computed once, then looked up in C."""

    def __init__(self, categories: str) -> None:
        super().__init__()
        self.categories = categories

    def __missing__(self, cp: int) -> int | None:
        self[cp] = None if unicodedata.category(chr(cp))[0] in self.categories else cp
        return self[cp]


_DROP, _DROP_BUT_SYMBOLS = _DropTable("PZSC"), _DropTable("PZC")


def match_key(text: str) -> str:
    """Dedupe key of display text: no punctuation, symbols or spaces; widths folded; lowercase.

    A text of nothing but symbols (an emoji riddle: 🐔🐶) keeps its symbols: else every such
    text would share the empty key and pass for a copy of the others.

    >>> match_key("什么门，永远关不上？"), match_key("🐍 🎨！"), match_key("？？")
    ('什么门永远关不上', '🐍🎨', '')
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return folded.translate(_DROP) or folded.translate(_DROP_BUT_SYMBOLS)


# The same tables for the column-wise code (curate.stages.ingest.columns).
INVISIBLE, CONTROL, CJK = _INVISIBLE.pattern, _CONTROL.pattern, _CJK
HALF_PUNCT, FULLWIDTH_ALNUM = _HALF_PUNCT, _FULLWIDTH_ALNUM
converter = _converter
