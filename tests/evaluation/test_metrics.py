"""Answer matching: what counts as the right answer to a riddle (real references from raw/ and
the bundled xiehouyu data), including the replies that must score 0."""

from __future__ import annotations

import doctest
import json
import re

import pytest

import curate.evaluation.answers
import curate.evaluation.metrics
from curate.evaluation.answers import alternatives, note_forms, read_reply, reference_keys
from curate.evaluation.metrics import char_f1, contains, exact_match, extracted, score


def test_docstring_examples_hold():
    assert doctest.testmod(curate.evaluation.metrics).failed == 0
    assert doctest.testmod(curate.evaluation.answers).failed == 0


@pytest.mark.parametrize(
    "reply",
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
def test_exact_match_ignores_punctuation_quotes_spaces_and_labels(reply):
    assert exact_match(reply, "多此一举")


def test_exact_match_uses_the_ingest_normalization():
    assert exact_match("聖誕老人", "圣诞老人")  # traditional -> simplified, as ingest does
    assert exact_match("ＡＢＣ", "abc")  # full width and case folded
    assert exact_match("<b>红楼梦</b>", "《红楼梦》")  # HTML tags and title marks dropped


# -- bracketed notes: either side --------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "replies"),
    [
        ("装象（相）", ["装象", "装相", "装象（相）", "谜底是装相。"]),  # validation: 猪鼻子插葱
        ("照舅（旧）", ["照舅", "照旧"]),  # 外甥打灯笼
        ("劳（捞）神", ["劳神", "捞神"]),  # 土地爷掉井里: the note replaces the character before
        ("净是书（输）", ["净是书", "净是输"]),  # 孔夫子搬家
        ("海豹（海报）", ["海豹", "海报"]),  # a two-character pun
        ("亲（青）上加亲（青）", ["亲上加亲", "青上加青"]),  # two notes
        ("心（心比天高）", ["心", "心比天高"]),  # a note longer than the text: stands alone
    ],
)
def test_a_bracketed_note_accepts_either_side(reference, replies):
    for reply in replies:
        assert exact_match(reply, reference), reply
        assert contains(reply, reference), reply
        assert char_f1(reply, reference) == 1.0, reply


def test_a_gloss_in_brackets_is_only_dropped():
    assert note_forms("小题大作（比喻把小事当作大事来对待、处理。）") == ["小题大作"]
    assert exact_match("小题大作", "小题大作（比喻把小事当作大事来对待、处理。）")
    assert not exact_match(
        "比喻把小事当作大事来对待处理", "小题大作（比喻把小事当作大事来对待、处理。）"
    )
    # a note inside a note (real xiehouyu data) is dropped whole, without stray forms
    assert reference_keys("干脆利索；不藏不掖（ye塞进（衣袋或夹缝里））")[1:] == [
        "干脆利索",
        "不藏不掖",
    ]


@pytest.mark.parametrize(
    ("reply", "reference"),
    [("装像", "装象（相）"), ("照久", "照舅（旧）"), ("老师", "老实"), ("捞身", "劳（捞）神")],
)
def test_a_wrong_homophone_scores_zero(reply, reference):
    assert score(reply, reference)["exact_match"] == 0.0
    assert score(reply, reference)["contains"] == 0.0


# -- alternatives ------------------------------------------------------------------------------


def test_listed_alternatives_any_one_counts():
    reference = "坏到一块了；冤家路窄"
    assert reference_keys(reference) == ["坏到一块了冤家路窄", "坏到一块了", "冤家路窄"]
    for reply in ["冤家路窄", "坏到一块了", "坏到一块了；冤家路窄", "这叫冤家路窄"]:
        assert exact_match(reply, reference), reply
        assert char_f1(reply, reference) == 1.0
    assert exact_match("冤家路窄", "坏到一块了;冤家路窄")  # ASCII semicolon too
    assert exact_match("装相", "装象/装相") and exact_match("装象", "装象或装相")
    assert not exact_match("冤家", reference)


def test_alternatives_are_not_split_inside_words_or_notes():
    assert alternatives("或多或少") == ["或多或少"]
    assert alternatives("或许吧") == ["或许吧"]
    assert alternatives("随大流（比喻跟着多数人说话或行事。）") == [
        "随大流（比喻跟着多数人说话或行事。）"
    ]


# -- the answer a reply states -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("谜底是“圣诞老人”，因为他只在平安夜工作。", "圣诞老人"),
        ("答案：球门。球门永远开着。", "球门"),
        ("是水。", "水"),
        ("我觉得是牙床，因为牙床不能睡。", "牙床"),
        ("这个谜语的答案是碗，因为碗每天洗三遍", "碗"),
        ("Answer: Santa Claus! He works one night a year.", "Santa Claus"),
        ("<think>会不会是水？</think>油", "油"),
    ],
)
def test_the_extracted_answer_follows_a_label_a_quote_or_is_the_first_clause(reply, answer):
    assert extracted(reply) == answer


def test_a_verbose_right_reply_is_an_exact_match():
    reply = "这是一个经典的脑筋急转弯。谜底是“球门”：球门永远开着，等着球进来。"
    assert score(reply, "球门") == {"exact_match": 1.0, "contains": 1.0, "char_f1": 1.0}
    assert exact_match("我觉得是牙床吧", "牙床")  # a hedge particle is not part of the answer
    assert exact_match("酒吧", "酒吧")  # ... unless it is
    assert exact_match("谜底是“秦”字。", "秦")  # a character riddle's 秦字


# -- 1-2 character references: contains only when stated ---------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "水果",  # a longer word containing the answer
        "不是水，是油",  # the answer named, then denied
        "水、油、火",  # a list of guesses
        "可能是水，也可能是油",  # guesses in words
        "是水吧？或者是油",  # a second guess in the next sentence
        "“水”还是“油”",  # two quoted guesses
        "越洗越脏的是抹布，因为要用水洗",  # the character inside an explanation
    ],
)
def test_a_short_answer_is_not_contained_unless_stated(reply):
    assert score(reply, "水")["exact_match"] == 0.0
    assert score(reply, "水")["contains"] == 0.0


def test_a_short_answer_stated_or_quoted_counts():
    assert contains("是“水”。水越洗越脏。", "水") and exact_match("是“水”。水越洗越脏。", "水")
    assert contains("我不确定，也许是“米”", "米")  # a quoted span states it
    assert not exact_match("我不确定，也许是“米”", "米")  # ... but the first clause does not
    assert not contains("秦朝", "秦") and not contains("米饭好吃", "米")


def test_a_long_answer_may_sit_inside_a_sentence_but_not_in_a_list_of_guesses():
    assert contains("这叫做两面光，因为快刀切得平", "两面光")
    assert not exact_match("这叫做两面光，因为快刀切得平", "两面光")
    assert not contains("圣诞老人、驯鹿还是雪人", "圣诞老人")
    assert not contains("是驯鹿", "圣诞老人") and not contains("", "圣诞老人")


def test_reasoning_blocks_are_not_the_answer():
    assert exact_match("<think>嗯……</think>\n\n谜底：多此一举。", "多此一举")
    assert not contains("<think>多此一举？</think>不知道", "多此一举")


def test_char_f1_is_bag_of_characters_f1_of_the_stated_answer():
    assert char_f1("圣诞老头", "圣诞老人") == pytest.approx(0.75)
    assert char_f1("谜底是圣诞老人，他只在平安夜工作", "圣诞老人") == 1.0  # not diluted
    assert char_f1("", "多此一举") == 0.0 and char_f1("多此一举", "") == 0.0
    assert char_f1("哈哈哈", "哈") == pytest.approx(0.5)  # multiset intersection


def test_read_reply_keeps_what_eval_md_shows():
    reading = read_reply("可能是水，也可能是油")
    assert reading.guesses and reading.answer == "水"


def test_real_references_match_themselves(xiehouyu_path):
    riddles = json.loads(xiehouyu_path.read_text(encoding="utf-8"))
    answers = [r["answer"] for r in riddles if r["answer"].strip()]
    noted = [a for a in answers if "（" in a]
    assert len(noted) > 1000
    for answer in answers[:2000] + noted:
        if not reference_keys(answer):
            continue  # an answer made only of punctuation has nothing to match
        assert exact_match(answer, answer), answer
        if "（" not in answer and reference_keys(first := answer.split("；")[0]):
            assert exact_match(first, answer), answer  # an alternative
        bare = re.sub(r"（[^（）]*）", "", answer)
        balanced = answer.count("（") == answer.count("）")  # some rows are cut mid-note
        if "（" in answer and balanced and "）" not in bare and reference_keys(bare):
            assert exact_match(bare, answer), answer  # the notes left out
