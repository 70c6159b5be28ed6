"""Answer metrics: what counts as the right answer to a riddle."""

from __future__ import annotations

import doctest
import json

import pytest

import curate.evaluation.metrics
from curate.evaluation.metrics import (
    answer_key,
    char_f1,
    contains,
    exact_match,
    reference_keys,
    score,
)


def test_docstring_examples_hold():
    assert doctest.testmod(curate.evaluation.metrics).failed == 0


@pytest.mark.parametrize(
    "response",
    [
        "多此一举",
        "多此一举。",
        "“多此一举”",
        "「多此一举」！",
        " 多 此 一 举 ",
        "答：多此一举",
        "谜底是多此一举",
    ],
)
def test_exact_match_ignores_punctuation_quotes_spaces_and_labels(response):
    assert exact_match(response, "多此一举")


def test_exact_match_uses_the_ingest_normalization():
    assert exact_match("聖誕老人", "圣诞老人")  # traditional -> simplified, as ingest does
    assert exact_match("ＡＢＣ", "abc")  # full width and case folded
    assert exact_match("<b>红楼梦</b>", "《红楼梦》")  # HTML tags and title marks dropped


@pytest.mark.parametrize(
    ("response", "expected"),
    [("多此一举吧", False), ("不是多此一举", False), ("", False), ("画蛇添足", False)],
)
def test_exact_match_rejects_extra_or_other_words(response, expected):
    assert exact_match(response, "多此一举") is expected


def test_xiehouyu_alternatives_any_one_counts():
    reference = "坏到一块了；冤家路窄"
    assert reference_keys(reference) == ["坏到一块了冤家路窄", "坏到一块了", "冤家路窄"]
    for response in ["冤家路窄", "坏到一块了", "坏到一块了；冤家路窄"]:
        assert exact_match(response, reference)
        assert contains(response, reference)
        assert char_f1(response, reference) == 1.0
    assert contains("这叫冤家路窄啊", reference)
    assert not exact_match("冤家", reference)
    assert exact_match("冤家路窄", "坏到一块了;冤家路窄")  # ASCII semicolon too


def test_contains_finds_the_answer_inside_a_sentence():
    assert contains("我想谜底应该是“圣诞老人”，因为他只在圣诞夜工作。", "圣诞老人")
    assert not contains("是驯鹿", "圣诞老人")
    assert not contains("", "圣诞老人")


def test_char_f1_is_bag_of_characters_f1():
    assert char_f1("圣诞老人", "圣诞老人") == 1.0
    assert char_f1("圣诞老头", "圣诞老人") == pytest.approx(0.75)
    # precision 4/6, recall 1 -> 2 * (2/3) / (5/3) = 0.8
    assert char_f1("这是多此一举", "多此一举") == pytest.approx(0.8)
    assert char_f1("", "多此一举") == 0.0
    assert char_f1("多此一举", "") == 0.0
    # repeated characters count once each, as multiset intersection
    assert char_f1("哈哈哈", "哈") == pytest.approx(0.5)


def test_reasoning_blocks_are_not_the_answer():
    assert answer_key("<think>也许是圣诞老人？不对</think>多此一举") == "多此一举"
    assert exact_match("<think>嗯……</think>\n\n谜底：多此一举。", "多此一举")
    assert not contains("<think>多此一举？</think>不知道", "多此一举")


def test_score_returns_floats_for_every_metric():
    assert score("多此一举", "多此一举") == {"exact_match": 1.0, "contains": 1.0, "char_f1": 1.0}
    assert score("画蛇添足", "多此一举") == {"exact_match": 0.0, "contains": 0.0, "char_f1": 0.0}


def test_real_xiehouyu_answers_match_themselves(xiehouyu_path):
    riddles = json.loads(xiehouyu_path.read_text(encoding="utf-8"))
    answers = [r["answer"] for r in riddles if r["answer"].strip()]
    with_alternatives = [a for a in answers if "；" in a]
    assert len(with_alternatives) > 100
    for answer in answers[:2000] + with_alternatives:
        if not reference_keys(answer):
            continue  # an answer made only of punctuation has nothing to match
        assert exact_match(answer, answer)
        first = answer.split("；")[0]
        if reference_keys(first):
            assert exact_match(first, answer), answer
