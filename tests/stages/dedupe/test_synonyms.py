"""Words that name one thing (curate/stages/dedupe/synonyms.py) and the kind a question asks
for (keys.CATEGORY_BASE): what dedupe merges and keeps apart because of them."""

from __future__ import annotations

import doctest
from collections import Counter

import polars as pl
from dedupe_frames import frame, write_ingested

from curate import io
from curate.stages.dedupe import DedupeConfig, dedupe, keys, synonyms


def _merged(processed) -> dict[frozenset, str]:
    rejects = io.read_jsonl(processed / "deduped.rejects.jsonl")
    kept = pl.read_parquet(processed / "deduped.parquet")
    by_id = dict(zip(kept["id"].to_list(), kept["question"].to_list(), strict=True))
    return {frozenset((r["raw"]["question"], by_id[r["duplicate_of"]])): r["kind"] for r in rejects}


def test_sayings_that_name_one_thing_in_other_words_merge_and_other_sayings_stay(project):
    processed = project / "processed"
    rows = [
        ("耗子嫁给花猫——", "冤家变亲家"),
        ("老鼠嫁花猫——", "冤家变亲家"),
        ("猫头鹰打瞌睡——", "睁只眼，闭只眼"),
        ("夜猫子打盹——", "睁只眼，闭只眼"),
        ("王八吃西瓜——", "连滚带爬"),
        ("乌龟啃西瓜——", "连滚带爬"),
        ("老鼠掉进米缸里——", "冤家变亲家"),  # another saying on one of those words
        ("猫和老鼠交朋友——", "冤家变亲家"),
    ]
    write_ingested(processed, frame(rows, category="歇后语"))
    dedupe(DedupeConfig(processed=processed))
    assert _merged(processed) == {
        frozenset(("耗子嫁给花猫——", "老鼠嫁花猫——")): "variant",
        frozenset(("猫头鹰打瞌睡——", "夜猫子打盹——")): "variant",
        frozenset(("王八吃西瓜——", "乌龟啃西瓜——")): "variant",
    }


def test_character_riddles_read_a_components_word_as_the_component(project):
    processed = project / "processed"
    rows = [
        ("九日（打一字）", "旭"),
        ("九个太阳（打一字）", "旭"),
        ("木下有口（打一字）", "杏"),
        ("一棵树下一张口（打一字）", "杏"),
        ("口口（打一字）", "吕"),  # a doubled component is two of it
        ("两张口上下相连（打一字）", "吕"),
        ("一加一（打一字）", "王"),  # two riddles for one glyph
        ("三横一竖（打一字）", "王"),
    ]
    write_ingested(processed, frame(rows, category="字谜"))
    dedupe(DedupeConfig(processed=processed))
    assert _merged(processed) == {
        frozenset(("九日（打一字）", "九个太阳（打一字）")): "variant",
        frozenset(("木下有口（打一字）", "一棵树下一张口（打一字）")): "variant",
        frozenset(("口口（打一字）", "两张口上下相连（打一字）")): "variant",
    }


def test_outside_character_riddles_a_word_keeps_its_own_sense():
    texts = pl.Series(["太阳为什么东升西落", "一棵大树"])
    assert synonyms.canonical(texts).to_list() == ["太阳为什么东升西落", "一棵大树"]
    assert synonyms.canonical(texts, glyph=True).to_list() == ["日为什么东升西落", "一棵木"]


def test_a_word_is_never_inside_a_longer_listed_word_or_in_two_lines():
    for glyph in (False, True):
        words, forms = synonyms._table(glyph)
        # 龟 must not be found inside 乌龟: each line's first word is listed too.
        assert synonyms.canonical(pl.Series(forms), glyph=glyph).to_list() == forms
    lines = [line.split() for line in synonyms.WORDS.splitlines() if line.strip()]
    twice = [w for w, n in Counter(w for line in lines for w in line).items() if n > 1]
    assert twice == []


def test_two_riddles_that_only_ask_for_the_same_kind_of_thing_stay_apart(project):
    processed = project / "processed"
    rows = [
        ("什么动物的鼻子最长？", "大象"),
        ("什么动物是陆地上最重的？", "大象"),
        ("什么动物背上有两座小山，能在沙漠里走好多天？", "骆驼"),
        ("什么动物被称为沙漠之舟？", "骆驼"),
        ("什么鸟不会飞？", "鸵鸟"),
        ("哪种鸟飞不起来？", "鸵鸟"),  # the kind is the clue here (鸟): one riddle
    ]
    write_ingested(processed, frame(rows, category="脑筋急转弯"))
    dedupe(DedupeConfig(processed=processed))
    assert _merged(processed) == {frozenset(("什么鸟不会飞？", "哪种鸟飞不起来？")): "variant"}


def test_the_kind_asked_for_is_one_private_character_after_the_question_word_only():
    got = keys.content_keys(pl.Series(["哪种动物最爱熬夜？", "动物园里什么最多", "什么交通工具"]))
    kind = chr(keys.CATEGORY_BASE)
    assert got.to_list()[0] == f"哪种{kind}最爱熬夜"
    assert got.to_list()[1] == "动物园里什么最多"
    assert len(got.to_list()[2]) == 3  # the longest kind, not 工具


def test_doctests():
    assert doctest.testmod(synonyms).failed == 0
