"""The `riddle_type` of a record: 字谜, 歇后语, 谜语, 脑筋急转弯 or other.

From the source's category when it names a type, else detected from the question and answer.
The rules are one ordered table of regular expressions, first match wins, evaluated either per
row (`detect`, Python `re`, used by ingest) or column-wise (`detect_column`, polars, used by
dedupe on files written before the column existed); a test keeps the two equal.

Category (simplified or traditional; any text containing the word):
  字谜/猜字/拆字 -> 字谜, 歇后语 -> 歇后语, 急转弯/脑筋 -> 脑筋急转弯, 谜语/灯谜/谜 -> 谜语.
Detected, in this order (a category naming none of these is ignored):
  1. 字谜: a marker 打一字, 猜一字, 打一个字, 猜一汉字, 字谜 in the question, or a question that
     ends asking which character it makes (日字加一笔是什么字？, 变成哪个字).
  2. 歇后语: the question contains, or ends with, the dash of a saying (——, --, …).
  3. 谜语: a bracketed 打… / 猜… note (（打一动物）, （打人体一部位）) or a final 打一物.
  3b. 字谜: a one-character answer to a question that asks nothing (no 什么/谁/哪/吗/？...):
     日日有余，月月不足 -> 门; the character may be quoted or followed by 字 (“门”, 「門」,
     门字, 是“门”字; not a word such as 名字, 文字, 数字).
  4. 脑筋急转弯: the question asks (什么, 为什么, 谁, 哪, 怎么, 几, 多少, 吗, 呢, ？, ?).
  5. 歇后语: a short statement (at most 20 characters, no 。！？) answered by
     two or more characters: the first half of a saying (阴天戴草帽 -> 多此一举).
  6. other.

>>> detect("半个月亮（打一字）", "胖")
'字谜'
>>> detect("阴天戴草帽", "多此一举")
'歇后语'
>>> detect("什么东西越洗越脏？", "水")
'脑筋急转弯'
>>> detect("红公鸡，绿尾巴，身体钻到地底下。（打一蔬菜）", "胡萝卜", category=None)
'谜语'
"""

from __future__ import annotations

import json
import re

import polars as pl

TYPES = ("字谜", "歇后语", "谜语", "脑筋急转弯", "other")
# Types whose answers are shared by many different riddles: a shared answer says little, the
# question's own content must match (see curate.stages.dedupe.content).
SHARED_ANSWER_TYPES = ("字谜", "歇后语")

_HAN = "一-鿿㐀-䶿"  # CJK unified ideographs and extension A, as literal ranges
_ASKS = r"什么|什麼|为什么|為什麼|谁|誰|哪|怎么|怎麼|怎样|怎樣|几|幾|多少|吗|嗎|呢|？|\?"
# A question ending "which character does it make": a clue, not a brain teaser about a word.
_WHICH_CHAR = r"(?:是|成|为|為)[个個]?(?:什么|甚么|什麼|哪个|哪個|哪一个|哪一個|何)字[？?。]?$"
# One character as an answer: quoted or not, 字 after it or not (“门”, 是门字).
_ONE_CHAR = r"^(?:是?[「『“\"‘'][" + _HAN + r"][」』”\"’']|[" + _HAN + r"])字?[。！.!]?$"
_WORD_IN_字 = r"^[名文汉数八十写识认打签错别生题]字"  # 名字, 文字: words, not one character

# (type, pattern) on the category; first match wins.
CATEGORY_RULES = (
    ("字谜", r"字谜|字謎|猜字|拆字"),
    ("歇后语", r"歇后语|歇後語"),
    ("脑筋急转弯", r"急转弯|急轉彎|脑筋|腦筋"),
    ("谜语", r"谜|謎"),
)
# (type, column, pattern) on the question (q) or the answer (a); first match wins. A rule
# with a second (column, pattern) needs both; "!q" ("!a") means the question (answer) must
# NOT match.
TEXT_RULES = (
    ("字谜", (("q", r"[打猜][一1]?[个個]?[汉漢]?字(?:$|[^" + _HAN + r"]|谜|謎)|字谜|字謎"),)),
    ("字谜", (("q", _WHICH_CHAR),)),
    ("歇后语", (("q", r"——|--|—$|…+$|\.\.\.+$"),)),
    ("谜语", (("q", r"[（(][打猜][^）)]{1,8}[）)]|[打猜][一1][个個]?[" + _HAN + r"]{1,4}$"),)),
    ("字谜", (("a", _ONE_CHAR), ("!a", _WORD_IN_字), ("!q", _ASKS))),
    ("脑筋急转弯", (("q", _ASKS),)),
    ("歇后语", (("q", r"^[^。！？!?]{1,20}$"), ("a", r"^\S{2,}$"))),
)


def from_category(category: str | None) -> str | None:
    """The type a category names, or None."""
    for kind, pattern in CATEGORY_RULES:
        if category and re.search(pattern, category):
            return kind
    return None


def detect(question: str, answer: str, category: str | None = None) -> str:
    """The riddle type of one record (display text)."""
    named = from_category(category)
    if named:
        return named
    fields = {"q": question, "a": answer}
    for kind, conditions in TEXT_RULES:
        if all(
            (re.search(p, fields[c.lstrip("!")]) is None) == c.startswith("!")
            for c, p in conditions
        ):
            return kind
    return "other"


def detect_column(df: pl.DataFrame) -> pl.Series:
    """`detect` of every row of a frame with question, answer and category columns."""
    cols = {"q": pl.col("question"), "a": pl.col("answer")}
    cat = pl.col("category").fill_null("")
    expr = pl.lit("other")
    rules = [(kind, cat.str.contains(pattern)) for kind, pattern in CATEGORY_RULES]
    for kind, conditions in TEXT_RULES:
        test = pl.lit(True)
        for c, pattern in conditions:
            hit = cols[c.lstrip("!")].str.contains(pattern)
            test = test & (~hit if c.startswith("!") else hit)
        rules.append((kind, test))
    for kind, test in reversed(rules):  # the first rule applied last wins
        expr = pl.when(test).then(pl.lit(kind)).otherwise(expr)
    return df.select(riddle_type=expr)["riddle_type"]


# A glyph a question spells out: 「門」, “來”, or the character before 字 (門字里面一个口).
_SPELLED = re.compile(r"[「『“\"‘']([" + _HAN + r"])[」』”\"’']|([" + _HAN + r"])字")


def keep_glyphs(fields, question: str, answer: str, kind: str, convert: str):
    """(question, answer, meta) of a record after conversion, character riddles kept whole.

    A 字谜 is about a glyph: when the conversion changes its answer (門 -> 门, 來 -> 来), the
    answer and question stay as written (their clues describe that glyph: 木 + 两个人 = 來);
    when it changes a glyph the question spells out (「門」, 門字), the question stays. What
    was kept is noted in `meta` as `glyph_kept`: {field: [kept, what conversion gave]}.
    `fields`: the record's raw `question`, `answer` and `meta` (a JSON object string).
    """
    if kind != "字谜" or convert == "none":
        return question, answer, fields.meta
    from curate.normalize import display

    kept = {}
    original_q = display(fields.question, "none")
    original_a = display(fields.answer, "none")
    spelled = [a or b for a, b in _SPELLED.findall(original_q)]
    keep_q = original_a != answer or any(display(c, convert) != c for c in spelled)
    if original_a != answer:
        kept["answer"] = [original_a, answer]
    if keep_q and original_q != question:
        kept["question"] = [original_q, question]
    if not kept:
        return question, answer, fields.meta
    meta = json.loads(fields.meta or "{}") | {"glyph_kept": kept}
    return (
        kept.get("question", [question])[0],
        kept.get("answer", [answer])[0],
        json.dumps(meta, ensure_ascii=False, sort_keys=True),
    )
