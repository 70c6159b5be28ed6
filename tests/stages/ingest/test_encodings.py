"""Encoding detection: UTF-8 first, then the legacy Chinese encoding that reads as Chinese."""

from __future__ import annotations

import pickle

import pytest

from curate.errors import InputError, UndecodableError
from curate.stages.ingest.encodings import chinese_score, decode

SIMPLIFIED = "问：什么东西越洗越脏？\n答：水\n问：什么人一年只上一天班？\n答：圣诞老人\n"
TRADITIONAL = "問：什麼東西越洗越髒？\n答：水\n問：什麼人一年只上一天班？\n答：聖誕老人\n"


@pytest.mark.parametrize(
    ("text", "encoding", "detected"),
    [
        (SIMPLIFIED, "utf-8", "utf-8"),
        (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
        (SIMPLIFIED, "gbk", "gb18030"),
        (SIMPLIFIED, "gb18030", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (TRADITIONAL, "gbk", "gb18030"),  # GBK holds traditional characters too
        (SIMPLIFIED, "utf-16", "utf-16"),
        (SIMPLIFIED, "utf-16-le", "utf-16-le"),  # no BOM: Windows Notepad's "Unicode"
        (TRADITIONAL, "utf-16-be", "utf-16-be"),
    ],
)
def test_detects_the_encoding_that_reads_as_chinese(text, encoding, detected):
    decoded, used = decode(text.encode(encoding), "a.txt")
    assert used == detected
    assert decoded.removeprefix("\ufeff") == text


def test_real_chinese_scores_higher_than_a_wrong_decoding():
    data = TRADITIONAL.encode("big5")
    assert chinese_score(data.decode("big5")) > 0.5 > 0.1 > chinese_score(data.decode("gb18030"))


def test_forced_encoding_wins_and_fails_clearly():
    assert decode(SIMPLIFIED.encode("gbk"), "a.txt", "gbk") == (SIMPLIFIED, "gbk")
    with pytest.raises(InputError, match="a.txt: cannot be decoded as big5"):
        decode("谜底".encode() + b"\xff", "a.txt", "big5")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        decode(b"x", "a.txt", "klingon")


def test_undecodable_bytes_name_the_file_and_suggest_encoding():
    with pytest.raises(InputError, match=r"x\.txt: not valid UTF-8 .*--encoding gbk"):
        decode("café au lait".encode("latin-1"), "x.txt")


def test_undecodable_error_carries_the_problem_apart_from_the_advice():
    """A page words its own advice from `problem` (a browser has no --encoding); the error
    survives pickling, as a Ray worker sends it back."""
    with pytest.raises(UndecodableError) as caught:
        decode("café au lait".encode("latin-1"), "x.txt")
    exc = caught.value
    assert (
        exc.problem == "not valid UTF-8 (byte 0xe9 at offset 3), and not GB18030/GBK or Big5 either"
    )
    assert str(exc).startswith(f"x.txt: {exc.problem}; convert it to UTF-8, or pass its encoding")
    again = pickle.loads(pickle.dumps(exc))
    assert (str(again), again.problem) == (str(exc), exc.problem)


def test_binary_with_nul_bytes_is_not_taken_for_utf16():
    with pytest.raises(InputError, match="x.bin: not valid UTF-8"):
        decode(bytes(range(256)) * 8, "x.bin")  # NUL bytes all at even offsets
