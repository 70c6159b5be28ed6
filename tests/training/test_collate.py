"""The assistant-only collator on plain token ids, and encode() with a tiny chat tokenizer."""

from __future__ import annotations

import doctest

import pytest
from tiny import RIDDLES, build_tokenizer

from curate.training import collate
from curate.training.collate import AssistantOnlyCollator, encode


def test_docstring_example_holds():
    assert doctest.testmod(collate).failed == 0


def test_labels_keep_only_assistant_tokens_and_padding_is_ignored():
    batch = AssistantOnlyCollator(pad_token_id=0)(
        [
            {"input_ids": [1, 2, 3], "assistant_mask": [0, 1, 1]},
            {"input_ids": [4, 5, 6, 7, 8], "assistant_mask": [0, 0, 0, 1, 0]},
        ]
    )
    assert batch["input_ids"].tolist() == [[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["labels"].tolist() == [[-100, 2, 3, -100, -100], [-100, -100, -100, 7, -100]]


def test_left_padding_and_multiple_of():
    collator = AssistantOnlyCollator(pad_token_id=9, pad_to_multiple_of=4, padding_side="left")
    batch = collator([{"input_ids": [1, 2], "assistant_mask": [0, 1]}])
    assert batch["input_ids"].tolist() == [[9, 9, 1, 2]]
    assert batch["labels"].tolist() == [[-100, -100, -100, 2]]


def test_mask_length_must_match():
    with pytest.raises(ValueError, match="differ in length"):
        AssistantOnlyCollator(pad_token_id=0)([{"input_ids": [1, 2], "assistant_mask": [1]}])


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer([q + a for q, a in RIDDLES] + ["你是猜谜高手。好的再来一个"])


def _assistant_text(tokenizer, enc) -> str:
    pairs = zip(enc.input_ids, enc.assistant_mask, strict=True)
    return tokenizer.decode([t for t, m in pairs if m])


def test_encode_marks_the_answer_and_its_end_of_turn(tokenizer):
    messages = [
        {"role": "system", "content": "你是猜谜高手。"},
        {"role": "user", "content": "什么东西越洗越脏？"},
        {"role": "assistant", "content": "水"},
    ]
    enc = encode(tokenizer, messages, max_seq_len=512)
    assert not enc.truncated
    assert _assistant_text(tokenizer, enc) == "水<|im_end|>\n"
    rendered = tokenizer.apply_chat_template(messages, tokenize=False)
    assert tokenizer.decode(enc.input_ids) == rendered


def test_encode_marks_every_assistant_turn(tokenizer):
    messages = [
        {"role": "user", "content": "什么床不能睡？"},
        {"role": "assistant", "content": "牙床"},
        {"role": "user", "content": "再来一个"},
        {"role": "assistant", "content": "好的"},
    ]
    enc = encode(tokenizer, messages, max_seq_len=512)
    assert _assistant_text(tokenizer, enc) == "牙床<|im_end|>\n好的<|im_end|>\n"


def test_encode_cuts_the_start_of_the_question_and_keeps_the_answer(tokenizer):
    messages = [
        {"role": "system", "content": "你是猜谜高手。"},
        {"role": "user", "content": "什么人一年只上一天班还不怕被解雇？"},
        {"role": "assistant", "content": "圣诞老人"},
    ]
    full = encode(tokenizer, messages, max_seq_len=512)
    cut = encode(tokenizer, messages, max_seq_len=len(full.input_ids) - 4)
    assert cut.truncated and cut.fits and len(cut.input_ids) == len(full.input_ids) - 4
    assert _assistant_text(tokenizer, cut) == "圣诞老人<|im_end|>\n"  # the answer is whole
    text = tokenizer.decode(cut.input_ids)
    assert "你是猜谜高手。" in text and "什么人一年" not in text and "还不怕被解雇？" in text
    assert text.endswith("<|im_start|>assistant\n圣诞老人<|im_end|>\n")


def test_encode_says_when_system_and_answer_alone_do_not_fit(tokenizer):
    messages = [
        {"role": "system", "content": "你是猜谜高手。"},
        {"role": "user", "content": "什么床不能睡？"},
        {"role": "assistant", "content": "牙床"},
    ]
    full = encode(tokenizer, messages, max_seq_len=512)
    question = len(tokenizer("什么床不能睡？", add_special_tokens=False)["input_ids"])
    assert encode(tokenizer, messages, len(full.input_ids) - question).fits
    skipped = encode(tokenizer, messages, len(full.input_ids) - question - 1)
    assert not skipped.fits and skipped.input_ids == []
