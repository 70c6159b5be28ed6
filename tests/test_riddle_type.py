"""riddle_type: category first, then detection rules; character riddles keep their glyph."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from curate.riddle_type import TYPES, detect, detect_column, from_category
from curate.stages.ingest import IngestConfig, ingest


@pytest.mark.parametrize(
    ("question", "answer", "category", "expected"),
    [
        ("随便什么", "答", "字謎", "字谜"),
        ("随便什么", "答", "歇後語", "歇后语"),
        ("随便什么", "答", "脑筋急转弯", "脑筋急转弯"),
        ("随便什么", "答", "灯谜", "谜语"),
        ("一口咬掉牛尾巴（打一字）", "告", "动物", "字谜"),  # a category naming no type: detect
        ("猜一字：自大加一点", "臭", None, "字谜"),
        ("日日有余，月月不足", "门", None, "字谜"),  # one character, asks nothing
        ("日日有余，月月不足", "“门”", None, "字谜"),  # quoted
        ("日日有余，月月不足", "门字", None, "字谜"),
        ("日日有余，月月不足", "是「門」字", None, "字谜"),
        ("一个人的名字", "文字", None, "歇后语"),  # a word ending in 字, not a glyph
        ("揪着马尾赛跑", "玄（悬）", None, "歇后语"),  # a pun's note, not a glyph
        ("日字加一笔是什么字？", "白", None, "字谜"),  # asks which character it makes
        ("王字多一点，变成哪个字", "玉", None, "字谜"),
        ("什么字人人都会念错？", "错", None, "脑筋急转弯"),  # a teaser about a word
        ("泥菩萨过江——", "自身难保", None, "歇后语"),
        ("阴天戴草帽", "多此一举", None, "歇后语"),
        ("上边毛，下边毛，中间一颗黑葡萄。（打人体一部位）", "眼睛", None, "谜语"),
        ("千条线，万条线，掉到水里看不见。（打一自然现象）", "雨", None, "谜语"),
        ("什么东西越洗越脏？", "水", None, "脑筋急转弯"),
        ("猜一猜：什么东西有五个头，但人们一点也不觉得奇怪？", "手和脚", None, "脑筋急转弯"),
        ("这是一段很长的叙述，没有问号也没有标记，只是说了一件事情而已。", "好事情", None, "other"),
    ],
)
def test_detect(question, answer, category, expected):
    assert detect(question, answer, category) == expected
    row = pl.DataFrame({"question": [question], "answer": [answer], "category": [category]})
    assert detect_column(row).to_list() == [expected]


def test_detection_without_category_agrees_with_the_bundled_categories(project):
    raw = Path(__file__).resolve().parents[1] / "raw"
    result = ingest(IngestConfig(sources=(raw,), processed=project / "processed"))
    df = pl.read_parquet(project / "processed" / "ingested.parquet")
    assert result.kept == df.height and set(df["riddle_type"]) <= set(TYPES)
    named = [from_category(c) for c in df["category"].to_list()]
    blind = detect_column(df.with_columns(category=pl.lit(None, pl.String))).to_list()
    agree = sum(a == b for a, b in zip(named, blind, strict=True)) / len(named)
    assert agree >= 0.95, agree
    python = [detect(q, a, c) for q, a, c in df.select("question", "answer", "category").rows()]
    assert python == detect_column(df).to_list() == df["riddle_type"].to_list()


def test_detect_on_real_xiehouyu(xiehouyu_path):
    data = json.loads(xiehouyu_path.read_text(encoding="utf-8"))
    kinds = [detect(d["riddle"], d["answer"]) for d in data]
    assert kinds.count("歇后语") / len(kinds) >= 0.95


def test_character_riddles_keep_their_glyph_under_t2s(project):
    (project / "raw" / "zimi.jsonl").write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"question": "日日有餘，月月不足（打一字）", "answer": "門", "category": "字謎"},
                {"question": "樹旁站著兩個人（打一字）", "answer": "來"},
                {"question": "「門」字裡面一個口（打一字）", "answer": "问"},
                {"question": "什麼東西越洗越髒？", "answer": "水"},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    ingest(IngestConfig(sources=(project / "raw" / "zimi.jsonl",), processed=project / "p"))
    df = pl.read_parquet(project / "p" / "ingested.parquet")
    rows = {r["answer"]: r for r in df.to_dicts()}
    assert set(rows) == {"門", "來", "问", "水"}
    assert rows["門"]["question"] == "日日有餘，月月不足（打一字）"
    assert json.loads(rows["來"]["meta"])["glyph_kept"]["answer"] == ["來", "来"]
    assert rows["问"]["question"].startswith("「門」字")  # the question spells the glyph
    assert "glyph_kept" in json.loads(rows["问"]["meta"])
    assert rows["水"]["question"] == "什么东西越洗越脏？" and rows["水"]["meta"] in (None, "{}")
