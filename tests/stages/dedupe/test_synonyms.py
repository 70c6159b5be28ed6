"""Words that name one thing (curate/stages/dedupe/synonyms.py), the kind a question asks
for (keys.CATEGORY_BASE) and sayings on one bigram: what dedupe merges and keeps apart."""

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
        ("叫花子唱大戏——", "穷开心"),
        ("要饭的唱大戏——", "穷开心"),
        ("茅房里点灯笼——", "找死（屎）"),
        ("厕所里点灯笼——", "找死（屎）"),
        ("跛子赶集——", "走一步歇一步"),
        ("瘸子赶集——", "走一步歇一步"),
        ("叫花子拜大年——", "穷开心"),  # another saying on one of those words
        ("穷光蛋过大年——", "穷开心"),
    ]
    write_ingested(processed, frame(rows, category="歇后语"))
    dedupe(DedupeConfig(processed=processed))
    assert _merged(processed) == {
        frozenset(("叫花子唱大戏——", "要饭的唱大戏——")): "variant",
        frozenset(("茅房里点灯笼——", "厕所里点灯笼——")): "variant",
        frozenset(("跛子赶集——", "瘸子赶集——")): "variant",
    }


def test_sayings_that_name_a_figure_by_another_of_its_names_merge(project):
    processed = project / "processed"
    rows = [
        ("孔明借东风——", "巧用天时"),
        ("诸葛亮借东风——", "巧用天时"),  # no character in common with 孔明
        ("玉帝请客——", "天大的面子"),
        ("玉皇大帝请客——", "天大的面子"),
        ("诸葛亮摇鹅毛扇——", "巧用天时"),  # the same figure, another saying
    ]
    write_ingested(processed, frame(rows, category="歇后语"))
    dedupe(DedupeConfig(processed=processed))
    assert _merged(processed) == {
        frozenset(("孔明借东风——", "诸葛亮借东风——")): "variant",
        frozenset(("玉帝请客——", "玉皇大帝请客——")): "variant",
    }


def test_character_riddles_read_a_components_word_as_the_component(project):
    processed = project / "processed"
    rows = [
        ("日月同辉（打一字）", "明"),
        ("太阳和月亮同辉（打一字）", "明"),
        ("一木一口（打一字）", "杏"),
        ("一棵树一张口（打一字）", "杏"),
        ("土土（打一字）", "圭"),  # a doubled component is two of it
        ("两个土上下叠着（打一字）", "圭"),
        ("一加一（打一字）", "王"),  # two riddles for one glyph
        ("三横一竖（打一字）", "王"),
    ]
    write_ingested(processed, frame(rows, category="字谜"))
    dedupe(DedupeConfig(processed=processed))
    assert _merged(processed) == {
        frozenset(("日月同辉（打一字）", "太阳和月亮同辉（打一字）")): "variant",
        frozenset(("一木一口（打一字）", "一棵树一张口（打一字）")): "variant",
        frozenset(("土土（打一字）", "两个土上下叠着（打一字）")): "variant",
    }


def test_outside_character_riddles_a_word_keeps_its_own_sense():
    texts = pl.Series(["太阳为什么东升西落", "一棵大树"])
    assert synonyms.canonical(texts).to_list() == ["太阳为什么东升西落", "一棵大树"]
    assert synonyms.canonical(texts, glyph=True).to_list() == ["日为什么东升西落", "一棵木"]


def test_a_word_is_never_inside_a_longer_listed_word_or_in_two_lines():
    names = synonyms.NAMES.split()
    for glyph in (False, True):
        words, forms = synonyms._table(glyph)
        forms = [f for w, f in zip(words, forms, strict=True) if w not in names]
        # 龟 must not be found inside 乌龟: each line's first word is listed too.
        assert synonyms.canonical(pl.Series(forms), glyph=glyph).to_list() == forms
    # A name is kept, its line's first form added after it; that form is left as it is.
    got = synonyms.canonical(pl.Series(["孔明借东风", "诸葛亮借东风", "诸葛孔明"])).to_list()
    assert got == ["孔明诸葛亮借东风", "诸葛亮借东风", "诸葛孔明诸葛亮"]
    text = synonyms.WORDS + synonyms.NAMES
    lines = [line.split() for line in text.splitlines() if line.strip()]
    twice = [w for w, n in Counter(w for line in lines for w in line).items() if n > 1]
    assert twice == []


def test_two_riddles_that_only_ask_for_the_same_kind_of_thing_stay_apart(project):
    processed = project / "processed"
    rows = [
        ("哪种动物的脖子长得最长？", "长颈鹿"),
        ("什么动物身上长满了斑点，最爱吃树叶？", "长颈鹿"),
        ("什么鸟最会说人话？", "鹦鹉"),
        ("哪种鸟能学人说话？", "鹦鹉"),  # the kind is the clue here (鸟): one riddle
    ]
    write_ingested(processed, frame(rows, category="脑筋急转弯"))
    dedupe(DedupeConfig(processed=processed))
    one = frozenset(("什么鸟最会说人话？", "哪种鸟能学人说话？"))
    assert _merged(processed) == {one: "variant"}


def test_the_kind_asked_for_is_one_private_character_after_the_question_word_only():
    got = keys.content_keys(pl.Series(["哪种动物最爱吃竹子？", "动物园里什么最多", "什么交通工具"]))
    kind = chr(keys.CATEGORY_BASE)
    assert got.to_list()[0] == f"哪种{kind}最爱吃竹子"
    assert got.to_list()[1] == "动物园里什么最多"
    assert len(got.to_list()[2]) == 3  # the longest kind, not 工具


def test_doctests():
    assert doctest.testmod(synonyms).failed == 0


def test_two_sayings_reworded_in_one_word_merge_on_one_shared_bigram(project):
    processed = project / "processed"
    rows = [
        ("铁锤落河——", "一沉到底"),
        ("铁锤掉河——", "一沉到底"),  # 铁锤 the only bigram in common, content 3 of 5
        ("石头落河——", "一沉到底"),  # 落河 in common, another subject: 2 of 6
    ]
    write_ingested(processed, frame(rows, category="歇后语"))
    dedupe(DedupeConfig(processed=processed))
    assert _merged(processed) == {frozenset(("铁锤落河——", "铁锤掉河——")): "variant"}
