"""Column-wise text normalization: `normalize.display` and `normalize.match_key` of a whole
column at once (polars expressions, OpenCC on one joined string), plus the vector checks that
flag the rare rows whose result only the per-record Python code can give exactly.

The column code reproduces the per-record functions byte for byte on every row it does not
flag; a flagged row is left to `normalize.display` / `filters.check` (see batches.py):
- HTML: only `&nbsp;` and `&amp;` are resolved here; a row still holding `<` or an `&` that
  could start an entity goes to `html.unescape` and the tag loop;
- Unicode versions: polars' NFC/NFKC, lowercase and classes follow a newer Unicode than
  Python's `unicodedata`, so a row with a character outside the Basic Multilingual Plane or
  unassigned in Python's table, a combining mark (NFC after width folding) or a capital sigma
  (final-sigma rules) is flagged.

>>> display_column(pl.Series(["  什麼人<b>一年</b>", "ｂ　ａ&nbsp;？"])).to_list()
['什么人一年', 'b a ？']
"""

from __future__ import annotations

import unicodedata
from functools import cache

import polars as pl

from curate import normalize

_SEP = "\x01"  # joins a column for OpenCC: a control character, so never in cleaned text
_MARK = "\x02"  # marks ASCII punctuation after Han for one replace_many (never in the text)


def char_class(chars: list[int]) -> str:
    """A regex character class (Rust syntax) of the given sorted code points, as ranges."""
    parts, i = [], 0
    while i < len(chars):
        j = i
        while j + 1 < len(chars) and chars[j + 1] == chars[j] + 1:
            j += 1
        lo, hi = chars[i], chars[j]
        parts.append(f"\\x{{{lo:x}}}" + (f"-\\x{{{hi:x}}}" if hi > lo else ""))
        i = j + 1
    return "[" + "".join(parts) + "]"


@cache
def classes() -> dict[str, str]:
    """Classes computed from Python's own Unicode tables (BMP only; ~30 ms once)."""
    unassigned, drop, bare, spaces = [], [], [], []
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat == "Cn":
            unassigned.append(cp)
        if cat[0] in "PZSC":
            drop.append(cp)
        if cat[0] in "PZC":
            bare.append(cp)
        if ch.isspace() or ch == "\u3000":
            spaces.append(cp)
    foreign = char_class(unassigned)[:-1] + "\\x{10000}-\\x{10ffff}\\p{M}\u03a3]"
    drops = {"drop": char_class(drop), "drop_but_symbols": char_class(bare)}
    return {"foreign": foreign, **drops, "spaces": char_class(spaces) + "+"}


_FULLWIDTH = [chr(c) for c in normalize.FULLWIDTH_ALNUM]
_ASCII = [chr(c) for c in normalize.FULLWIDTH_ALNUM.values()]
# An `&` that html.unescape could read as the start of an entity.
_ENTITY_START = "&[A-Za-z0-9#]|<"
_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def clean(col: pl.Expr) -> pl.Expr:
    """`normalize._clean`: invisible characters out, controls to spaces, NFC, widths folded."""
    col = col.str.replace_all(normalize.INVISIBLE, "").str.replace_all(normalize.CONTROL, " ")
    return col.str.normalize("NFC").str.replace_many(_FULLWIDTH, _ASCII)


def flag(col: pl.Expr, unescaped: pl.Expr) -> pl.Expr:
    """Rows of a cleaned column (and its `unescape`) the column code cannot normalize exactly
    (see module doc)."""
    return unescaped.str.contains(_ENTITY_START) | col.str.contains(classes()["foreign"])


def unescape(col: pl.Expr) -> pl.Expr:
    """html.unescape of a cleaned, unflagged column: only `&nbsp;` and `&amp;` occur."""
    return col.str.replace_all("&nbsp;", "\u00a0", literal=True).str.replace_all(
        "&amp;", "&", literal=True
    )


def opencc(values: pl.Series, convert: str) -> pl.Series:
    """OpenCC of every value, converted as one joined string per chunk of rows.

    OpenCC matches dictionary phrases, none of which spans the separator, so the joined
    conversion equals the per-value one."""
    if convert == "none" or values.len() == 0:
        return values
    converter = normalize.converter(convert)
    out = []
    for start in range(0, values.len(), 1 << 16):
        # One Python string in, one out: no Python object per value.
        joined = values.slice(start, 1 << 16).fill_null("").str.join(_SEP).item()
        out.append(pl.Series([converter.convert(joined)]).str.split(_SEP).explode())
    return pl.concat(out).alias(values.name)


def finish(col: pl.Expr) -> pl.Expr:
    """After OpenCC: ASCII punctuation after Han in Chinese form (marked, then mapped), whitespace
    collapsed and trimmed, spaces between CJK characters dropped (two passes reach them all)."""
    col = col.str.replace_all(f"({_HAN})([?!,:;])", f"${{1}}{_MARK}${{2}}")
    half = list(normalize.HALF_PUNCT)
    col = col.str.replace_many([_MARK + h for h in half], [normalize.HALF_PUNCT[h] for h in half])
    col = col.str.replace_all(classes()["spaces"], " ").str.strip_chars(" ")
    cjk = f"([{normalize.CJK}]) ([{normalize.CJK}])"
    return col.str.replace_all(cjk, "${1}${2}").str.replace_all(cjk, "${1}${2}")


def display_column(values: pl.Series, convert: str = "t2s") -> pl.Series:
    """`normalize.display` of each value (nulls stay null); flagged rows one by one."""
    if values.null_count():
        present = values.is_not_null().arg_true()
        shown = display_column(values.gather(present), convert)
        return pl.Series(values.name, [None] * values.len(), pl.String).scatter(present, shown)
    frame = pl.DataFrame({"v": values}).with_columns(c=clean(pl.col("v")))
    frame = frame.with_columns(u=unescape(pl.col("c")))
    frame = frame.with_columns(flag=flag(pl.col("c"), pl.col("u")))
    converted = opencc(frame["u"], convert)
    out = frame.select(finish(pl.lit(converted)).alias("d"))["d"]
    slow = frame["flag"].arg_true().to_list()
    if slow:
        fixed = [normalize.display(v, convert) for v in frame["v"].gather(slow).to_list()]
        out = out.scatter(slow, fixed)
    return out.alias(values.name)


def match_key(col: pl.Expr) -> pl.Expr:
    """`normalize.match_key` of an unflagged display column: NFKC, lowercase, no P/Z/S/C
    (no P/Z/C where that leaves nothing: a text of symbols keeps them)."""
    folded = col.str.normalize("NFKC").str.to_lowercase()
    key = folded.str.replace_all(classes()["drop"], "")
    bare = folded.str.replace_all(classes()["drop_but_symbols"], "")
    return pl.when(key.str.len_bytes() > 0).then(key).otherwise(bare)


def key_flag(col: pl.Expr) -> pl.Expr:
    """Display rows whose match key the column code cannot give exactly."""
    return col.str.contains(classes()["foreign"])
