"""Quality filters: each keeps good riddles and rejects one kind of broken record, with a reason."""

from __future__ import annotations

import pytest

from curate.record import REASONS
from curate.stages.ingest import filters
from curate.stages.ingest.filters import LIMITS, Limits, check


def reason(question: str, answer: str, **kwargs) -> str | None:
    verdict = check(question, answer, **kwargs)
    return verdict[0] if verdict else None


def test_every_filter_has_a_reason_code():
    assert set(filters.FILTERS) <= set(REASONS)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("钟馗（kui）打饱嗝", "肚里有鬼"),  # a balanced pinyin note is fine
        ("做梦坐飞机", "想人非非（飞飞）"),
        ("什么东西越洗越脏？", "水"),
        ("阿拉伯数字8字分家", "零比零（O：O）"),
        ("《西游记》里谁最胖？", "猪八戒"),
        ("X光片", "透视"),  # a Latin letter before Chinese is not a cut-off note
        ("年轻人周末最爱做什么？", "唱卡拉ok"),
        ("He said “hi” (once)", "ok"),
        ("猜一字：一口咬掉牛尾巴", "告"),
    ],
)
def test_good_records_are_kept(question, answer):
    assert check(question, answer) is None


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        ("", "水", "empty_question"),
        ("什么东西越洗越脏？", " ", "empty_answer"),
        # the 歇后语 defect: a pinyin note split across the two fields
        ("坐飞机撵（ni", "n追赶）西北风", "split_note"),
        ("拽（zhu", "i拉）着大嫂叫姑姑", "split_note"),
        ("蘸（zh", "n）了汽油的稻草", "split_note"),
        ("祖传的皮袄", "里外孬（n", "split_note"),  # note cut off at the end of the answer
        ("小马驹备鞍鞯（", "n ji", "split_note"),
        ("糌粑（x", "n b", "split_note"),
        ("冰凌挂胸n", "凉透了心", "split_note"),  # stray fragment at the end
        ("赵五娘“琵琶记》中人物）上京", "一路辛苦", "unbalanced_brackets"),
        ("土地爷洗脸", "失{湿）面子", "unbalanced_brackets"),
        ("叭拉狗咬月亮", "不知天多高（比喻不知道自己有多大本事", "unbalanced_brackets"),
        ("【谜面", "谜底", "unbalanced_brackets"),
        ("什么门永远关不上？", "什么门永远关不上", "answer_equals_question"),
        ("谜底是锟斤拷", "水", "mojibake"),
        ("谜底", "水\ufffd", "mojibake"),
        ("ä¸­æ–‡", "水", "mojibake"),  # UTF-8 read as cp1252
        ("谜\ue000底", "水", "mojibake"),  # private use area
        ("长" * 501, "水", "too_long"),
        ("问", "长" * 201, "too_long"),
    ],
)
def test_broken_records_are_rejected_with_a_reason(question, answer, expected):
    assert reason(question, answer) == expected


def test_details_say_what_is_wrong():
    assert "never closed" in check("【谜面", "底")[1]
    assert "limit 500" in check("长" * 501, "水")[1]
    assert "'（ni'" in check("坐飞机撵（ni", "n追赶）西北风")[1]


def test_filters_can_be_switched_off():
    assert reason("【谜面", "底", disabled=("unbalanced_brackets",)) is None
    # with split_note off, the split record still fails the bracket check
    assert (
        reason("坐飞机撵（ni", "n追赶）西北风", disabled=("split_note",)) == "unbalanced_brackets"
    )


def test_length_limits_are_configurable():
    assert reason("长" * 30, "水", limits=Limits(max_question=20, max_answer=5)) == "too_long"
    assert reason("长" * 30, "水", limits=Limits(max_question=30, max_answer=5)) is None
    assert Limits(500, 200) == LIMITS


def test_first_matching_filter_wins():
    # empty answer and equal-to-question: the earlier filter names the reason
    assert reason("", "") == "empty_question"
