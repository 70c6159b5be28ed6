"""Display text and match key: what a user sees exported, and what dedupe compares."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.normalize import display, match_key, strip_html


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("什麼人一年只上一天班還不怕被解雇？", "什么人一年只上一天班还不怕被解雇？"),  # t2s
        ("  谜底\u3000是\t什么 ", "谜底是什么"),  # spaces between Chinese are layout residue
        ("什么东西越洗越脏?", "什么东西越洗越脏？"),  # ASCII ? after Chinese -> Chinese
        ("猜一字!", "猜一字！"),
        ("Ｑ：ＡＢＣ１２３", "Q：ABC123"),  # full-width letters/digits folded, ： kept
        ("谜\u200b底\u00ad\ufeff", "谜底"),  # invisible characters removed
        ("谜\x00底\x07", "谜底"),  # control characters: spaces, then dropped between Chinese
        ("<b>冰</b>&amp;雪&nbsp;", "冰&雪"),  # tags dropped, entities resolved
        ("&amp;lt;b&amp;gt;x", "x"),  # double-escaped HTML
        ("a<br/>b", "a b"),
        ("e\u0301", "\u00e9"),  # NFC
        ("Hello,  world", "Hello, world"),  # Latin text keeps its ASCII punctuation
    ],
)
def test_display(raw, expected):
    assert display(raw) == expected


def test_display_convert_none_keeps_traditional_and_s2t_converts():
    assert display("謎語", "none") == "謎語"
    assert display("谜语", "s2t") == "謎語"


def test_strip_html_leaves_plain_text_alone():
    assert strip_html("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"


def test_scraped_scripts_and_styles_go_with_their_code():
    page = "<script>alert(1)</script>什么门<STYLE type=x>p {}</STYLE>永远关不上？"
    assert display(page) == "什么门永远关不上？"
    assert display("&lt;script&gt;var a;&lt;/script&gt;球门") == "球门"  # escaped, then read


def test_match_key_drops_punctuation_spaces_and_case():
    assert match_key("什么人，一年只上一天班？") == "什么人一年只上一天班"
    assert match_key("Ａ b!") == "ab"


# Characters that interact: tags hidden by invisible/control/full-width characters, entities,
# combining marks, Chinese and ASCII punctuation, traditional characters.
_TRICKY = [*"什麼人謎底？?！!，,：:；; \u3000\t\n<>b/&#;amplt8203ＡＢａｂ１２（）()“”"]
_TRICKY += ["\u200b", "\u00ad", "\ufeff", "\x00", "\x01", "\x85", "e", "\u0301", "\u037e"]
_TRICKY += ["&amp;", "&lt;", "&#8203;", "<b>", "</p>", "&#x301;", "\u2126", "\u0344"]
_TRICKY += ["\u200d", "\ufe0f", "👨", "🏽", "&#8205;"]
_TEXT = st.one_of(st.text(), st.lists(st.sampled_from(_TRICKY), max_size=30).map("".join))


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.sampled_from(["t2s", "none", "s2t"]))
def test_display_is_idempotent(text, convert):
    once = display(text, convert)
    assert display(once, convert) == once


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_display_has_no_edge_spaces_or_invisibles(text):
    out = display(text)
    assert out == out.strip()
    assert not any(ch in out for ch in "\u200b\ufeff\x00\t\n")


def test_emoji_sequences_keep_their_joiners_and_stray_joiners_go():
    family, rainbow, coder = "👨\u200d👩\u200d👧", "🏳\ufe0f\u200d🌈", "👩🏽\u200d💻"
    assert display(f"打一家庭成员：{family}") == f"打一家庭成员：{family}"
    assert display(rainbow) == "🏳\u200d🌈"  # the variation selector goes, the flag stays
    assert display(coder) == coder
    assert display("什\u200d么\u200d👨\u200d") == "什么👨"
    assert match_key(family) == "👨👩👧"  # dedupe keys are as before
