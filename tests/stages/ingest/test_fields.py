"""Field mapping: aliases, alpaca, messages, overrides, meta, and reasons for unmappable records."""

from __future__ import annotations

import json

import pytest

from curate.stages.ingest.fields import Fields, join_input, to_fields


@pytest.mark.parametrize(
    "record",
    [
        {"question": "Q?", "answer": "A"},
        {"Q": "Q?", "A": "A"},
        {"riddle": "Q?", "answer": "A"},
        {"prompt": "Q?", "completion": "A"},
        {"instruction": "Q?", "input": "", "output": "A"},
        {"input": "Q?", "output": "A"},
        {"问题": "Q?", "答案": "A"},
        {"谜面": "Q?", "谜底": "A"},
        {" 題目 ": "Q?", "謎底": "A"},  # traditional headers, stray spaces
    ],
)
def test_question_and_answer_aliases(record):
    fields = to_fields(record)
    assert (fields.question, fields.answer) == ("Q?", "A")


def test_alpaca_input_joins_the_instruction_and_other_fields_go_to_meta():
    fields = to_fields(
        {
            "instruction": "猜一字",
            "input": "一口咬掉牛尾巴",
            "output": "告",
            "source": "book",
            "id": 3,
        }
    )
    assert fields.question == "猜一字：一口咬掉牛尾巴"
    assert (
        join_input("Solve this riddle.", "What has keys?") == "Solve this riddle.\nWhat has keys?"
    )
    assert join_input("Riddle", "What has keys?") == "Riddle: What has keys?"
    assert json.loads(fields.meta) == {"id": 3, "source": "book"}
    assert fields.meta == '{"id": 3, "source": "book"}'  # sorted keys: deterministic


def test_category_from_any_alias():
    assert to_fields({"q": "x", "a": "y", "类别": "字谜"}).category == "字谜"
    assert to_fields({"q": "x", "a": "y", "type": 3}).category == "3"
    assert to_fields({"q": "x", "a": "y"}).category is None


def test_messages_with_system_prompt():
    fields = to_fields(
        {
            "messages": [
                {"role": "system", "content": "你是猜谜高手"},
                {"role": "user", "content": "什么门永远关不上？"},
                {"role": "assistant", "content": "球门"},
            ],
            "category": "脑筋急转弯",
        }
    )
    assert fields == Fields(
        "什么门永远关不上？", "球门", "脑筋急转弯", '{"system": "你是猜谜高手"}'
    )


def test_sharegpt_conversations():
    fields = to_fields(
        {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}
    )
    assert (fields.question, fields.answer) == ("Q", "A")


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        (
            [
                {"role": "user", "content": "1"},
                {"role": "assistant", "content": "2"},
                {"role": "user", "content": "3"},
                {"role": "assistant", "content": "4"},
            ],
            "multi_turn",
        ),
        ([{"role": "user", "content": "1"}], "bad_messages"),
        ([{"role": "assistant", "content": "2"}, {"role": "user", "content": "1"}], "bad_messages"),
        (
            [{"role": "user", "content": ["x"]}, {"role": "assistant", "content": "2"}],
            "bad_messages",
        ),
        ("not a list", "bad_messages"),
    ],
)
def test_bad_messages(messages, reason):
    assert to_fields({"messages": messages})[0] == reason


def test_overrides_pick_the_named_fields():
    record = {"title": "什么门永远关不上？", "solution_text": "球门", "question": "ignored"}
    fields = to_fields(record, question_field="title", answer_field="solution_text")
    assert (fields.question, fields.answer) == ("什么门永远关不上？", "球门")
    assert json.loads(fields.meta) == {"question": "ignored"}
    reason, detail = to_fields(record, question_field="nope")
    assert reason == "missing_field" and "'nope'" in detail


def test_numbers_are_coerced_and_other_types_rejected():
    assert to_fields({"q": "1+1=?", "a": 2}).answer == "2"
    assert to_fields({"q": "半个?", "a": 0.5}).answer == "0.5"
    assert to_fields({"q": "x", "a": ["y", "z"]})[0] == "non_string_field"
    assert to_fields({"q": {"text": "x"}, "a": "y"})[0] == "non_string_field"
    assert to_fields({"q": "x", "a": True})[0] == "non_string_field"
    assert to_fields({"q": "x", "a": None})[0] == "missing_field"


def test_missing_fields_and_non_objects():
    reason, detail = to_fields({"q": "x", "note": "y"})
    assert reason == "missing_field" and "no answer field among: q, note" in detail
    assert to_fields("a string")[0] == "not_an_object"
    assert to_fields([1, 2])[0] == "not_an_object"


def test_quiz_option_columns_a_to_d_are_not_taken_for_the_answer():
    quiz = {"题目": "一口咬掉牛尾巴", "A": "牛", "B": "告", "答案": "B", "Q": "3"}
    fields = to_fields(quiz)
    assert (fields.question, fields.answer) == ("一口咬掉牛尾巴", "B")
    assert json.loads(fields.meta) == {"A": "牛", "B": "告", "Q": "3"}
    assert to_fields({"q": "x", "a": "y"}) == Fields("x", "y", None, "{}")  # alone they count
