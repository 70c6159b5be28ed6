"""Readers: every format gives records with the right line numbers, raw text and values."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.errors import InputError
from curate.stages.ingest.readers import find_inputs, read_file, sniff
from curate.stages.ingest.textblocks import read_text

PAIRS = [("什么东西越洗越脏？", "水"), ("什么门永远关不上？", "球门"), ("一口咬掉牛尾巴", "告")]


def records(path: Path, encoding: str | None = None) -> list[tuple[int, object]]:
    return [
        (r.line, r.value if r.error is None else r.error[0])
        for r in read_file(path, encoding).records
    ]


def test_json_array_line_is_where_each_object_starts(write_raw):
    path = write_raw("a.json", [{"q": q, "a": a} for q, a in PAIRS])  # indent=1: 4 lines each
    src = read_file(path)
    assert (src.format, src.encoding) == ("json", "utf-8")
    assert [r.line for r in src.records] == [2, 6, 10]
    assert src.records[1].value == {"q": "什么门永远关不上？", "a": "球门"}
    assert json.loads(src.records[1].raw) == src.records[1].value  # raw is the original slice


def test_json_array_keeps_non_objects_as_records(write_raw):
    path = write_raw("a.json", '[{"q": "x", "a": "y"},\n "just a string",\n [1, 2]]')
    assert records(path) == [(1, {"q": "x", "a": "y"}), (2, "just a string"), (3, [1, 2])]


def test_json_object_wrapping_records(write_raw):
    doc = {"version": 2, "data": [{"instruction": q, "output": a} for q, a in PAIRS]}
    src = read_file(write_raw("alpaca.json", json.dumps(doc, ensure_ascii=False, indent=2)))
    assert len(src.records) == 3
    assert src.records[0].value == {"instruction": PAIRS[0][0], "output": PAIRS[0][1]}
    assert [r.line for r in src.records] == [4, 8, 12]


def test_json_object_with_any_single_list_key(write_raw):
    path = write_raw("w.json", {"riddles_2024": [{"q": "x", "a": "y"}], "name": "mine"})
    assert records(path) == [(3, {"q": "x", "a": "y"})]


def test_single_json_object_is_one_record(write_raw):
    path = write_raw("one.json", {"messages": [{"role": "user", "content": "x"}]})
    assert len(read_file(path).records) == 1


def test_malformed_json_file_names_file_and_line(write_raw):
    path = write_raw("bad.json", '[\n {"q": "x", "a": "y"},\n {"q": "x" "a": "y"}\n]')
    with pytest.raises(InputError, match=r"bad\.json: not valid JSON at line 3 column 12"):
        read_file(path)


def test_jsonl_bad_lines_become_records_and_blank_lines_are_skipped(write_raw):
    text = '{"q": "x", "a": "y"}\n\n{"q": "broken"\n[1]\n  \n{"q": "z", "a": "w"}\n'
    path = write_raw("a.jsonl", text)
    assert records(path) == [
        (1, {"q": "x", "a": "y"}),
        (3, "malformed_json"),
        (4, [1]),  # an array holding no object is one record (not_an_object)
        (6, {"q": "z", "a": "w"}),
    ]
    assert read_file(path).records[1].raw == '{"q": "broken"'


def test_jsonl_line_holding_an_array_gives_a_record_per_element(write_raw):
    """Each element is a record (a non-object one a reject of its own); several records on
    one line number the file's records by index, as a minified JSON array does, so ids stay
    unique."""
    text = '{"q": "x", "a": "y"}\n\n[{"q": "z", "a": "w"}, 5, {"q": "u", "a": "v"}],\n[]\n'
    text += '["竹篮打水", "一场空"]\n'
    src = read_file(write_raw("a.jsonl", text))
    assert records(src.path) == [
        (1, {"q": "x", "a": "y"}),
        (2, {"q": "z", "a": "w"}),
        (3, 5),
        (4, {"q": "u", "a": "v"}),
        (5, []),  # an array holding no object stays one record, a reject: not lost
        (6, ["竹篮打水", "一场空"]),
    ]
    assert src.numbering == "index"
    assert [r.raw for r in src.records][1:4] == [
        '{"q": "z", "a": "w"}',
        "5",
        '{"q": "u", "a": "v"}',
    ]


def test_json_lines_in_a_json_file_are_detected(write_raw):
    path = write_raw("lines.json", '{"q": "x", "a": "y"}\n{"q": "z", "a": "w"}\n')
    src = read_file(path)
    assert src.format == "jsonl"
    assert [r.line for r in src.records] == [1, 2]


def test_csv_quoted_fields_bom_crlf_and_chinese_headers(write_raw):
    text = (
        '\ufeff题目,答案,类别\r\n"什么东西，越洗越脏？",水,谜语\r\n'
        '"两行\r\n的题",答,x\r\n\r\n短,底,y\r\n'
    )
    src = read_file(write_raw("a.csv", text))
    assert src.format == "csv"
    assert [r.line for r in src.records] == [2, 3, 6]
    assert src.records[0].value == {"题目": "什么东西，越洗越脏？", "答案": "水", "类别": "谜语"}
    assert src.records[1].value["题目"] == "两行\r\n的题"
    assert src.records[1].raw == '"两行\r\n的题",答,x'


def test_csv_row_with_too_many_fields_is_a_malformed_row(write_raw):
    path = write_raw("a.csv", "q,a\nx,y\nx,y,z\nshort\n")
    assert records(path) == [
        (2, {"q": "x", "a": "y"}),
        (3, "malformed_row"),
        (4, {"q": "short", "a": ""}),
    ]


def test_tsv(write_raw):
    path = write_raw("a.tsv", "question\tanswer\n什么门永远关不上？\t球门\n")
    assert records(path) == [(2, {"question": "什么门永远关不上？", "answer": "球门"})]


def test_text_blocks_in_every_marker_style(write_raw):
    text = (
        "# 我的谜语\n"
        "问：什么东西越洗越脏？\n答：水\n\n"
        "题目: 什么门永远关不上？\n答案：球门\n"
        "谜面：一口咬掉牛尾巴\n（打一字）\n谜底：告\n\n"
        "Q: What has keys but can't open locks?\nA: A piano\n\n"
        "1. 问：什么人一年只上一天班？ 答：圣诞老人\n\n"
        "这一行不是问答\n\n"
        "答：没有问题的答案\n"
    )
    recs = read_file(write_raw("a.txt", text)).records
    assert [(r.line, r.value if r.error is None else r.error[0]) for r in recs] == [
        (2, {"问": "什么东西越洗越脏？", "答": "水"}),
        (5, {"题目": "什么门永远关不上？", "答案": "球门"}),
        (7, {"谜面": "一口咬掉牛尾巴\n（打一字）", "谜底": "告"}),
        (11, {"Q": "What has keys but can't open locks?", "A": "A piano"}),
        (14, {"问": "什么人一年只上一天班？", "答": "圣诞老人"}),
        (16, "unparsed_text"),
        (18, {"答": "没有问题的答案"}),
    ]
    assert recs[2].raw == "谜面：一口咬掉牛尾巴\n（打一字）\n谜底：告"


def test_xiehouyu_lines_with_dashes(write_raw):
    text = "# 歇后语\n泥菩萨过江——自身难保\n外甥打灯笼 —— 照舅（旧）\n没有破折号\n"
    assert records(write_raw("x.txt", text)) == [
        (2, {"question": "泥菩萨过江", "answer": "自身难保"}),
        (3, {"question": "外甥打灯笼", "answer": "照舅（旧）"}),
        (4, "unparsed_text"),
    ]


def test_parquet_rows_numbered_from_one(project):
    path = project / "raw" / "a.parquet"
    pl.DataFrame(
        {"question": [q for q, _ in PAIRS], "answer": [a for _, a in PAIRS]}
    ).write_parquet(path)
    src = read_file(path)
    assert (src.format, src.encoding) == ("parquet", None)
    assert records(path)[2] == (3, {"question": "一口咬掉牛尾巴", "answer": "告"})
    assert json.loads(src.records[0].raw) == src.records[0].value


@pytest.mark.parametrize("name", ["a.jsonl.gz", "a.csv.gz", "a.json.gz"])
def test_gzip_of_any_format(write_raw, name):
    inner = {
        "a.jsonl.gz": '{"q": "x", "a": "y"}\n',
        "a.csv.gz": "q,a\nx,y\n",
        "a.json.gz": '[{"q": "x", "a": "y"}]',
    }[name]
    path = write_raw(name, gzip.compress(inner.encode()))
    assert [r.value for r in read_file(path).records] == [{"q": "x", "a": "y"}]


@pytest.mark.parametrize(
    ("encoding", "text", "detected"),
    [
        ("gbk", "问：什么东西越洗越脏？\n答：水\n", "gb18030"),
        ("big5", "問：什麼東西越洗越髒？\n答：水\n", "big5"),
        ("utf-8-sig", "问：什么东西越洗越脏？\n答：水\n", "utf-8-sig"),
        ("utf-16", "问：什么东西越洗越脏？\n答：水\n", "utf-16"),
    ],
)
def test_legacy_encodings_are_detected(write_raw, encoding, text, detected):
    src = read_file(write_raw("a.txt", text, encoding=encoding))
    assert src.encoding == detected
    assert src.records[0].value["答"] == "水"
    assert "越洗越" in next(iter(src.records[0].value.values()))


def test_forced_encoding_and_its_error(write_raw):
    path = write_raw("a.csv", "题目,答案\n什么门永远关不上？,球门\n", encoding="gbk")
    assert records(path, "gbk")[0][1] == {"题目": "什么门永远关不上？", "答案": "球门"}
    with pytest.raises(InputError, match=r"a\.csv: cannot be decoded as utf-8.*--encoding"):
        read_file(path, "utf-8")


def test_undecodable_file_names_it_and_suggests_encoding(write_raw):
    path = write_raw("broken.txt", b"abc \xff\xfe\xfd \x80\x81\n")
    with pytest.raises(InputError, match=r"broken\.txt: not valid UTF-8.*--encoding gbk"):
        read_file(path)


def test_sniff_without_extension():
    assert sniff('[{"q": 1}]', None) == "json"
    assert sniff('{"q": 1}\n{"q": 2}\n', None) == "jsonl"
    assert sniff("question,answer\nx,y\n", None) == "csv"
    assert sniff("question\tanswer\nx\ty\n", None) == "tsv"
    assert sniff("问：x，y\n答：z\n", None) == "text"


def test_find_inputs_walks_folders_in_order_and_skips_hidden_and_unknown(write_raw, project):
    for name in ["b.csv", "a.json", "sub/c.jsonl.gz", ".hidden/d.json", "notes.md", ".e.json"]:
        write_raw(name, "x")
    found = [p.as_posix() for p in find_inputs([Path("raw")]).paths]
    assert found == ["raw/a.json", "raw/b.csv", "raw/sub/c.jsonl.gz"]
    # a file given twice (directly and through its folder) is read once
    assert len(find_inputs([Path("raw/a.json"), Path("raw")]).paths) == 3


def test_find_inputs_errors(project):
    with pytest.raises(InputError, match="nope.json: no such file"):
        find_inputs([Path("nope.json")])
    with pytest.raises(InputError, match="no input files in raw"):
        find_inputs([Path("raw")])


def test_minified_json_array_is_numbered_by_index(write_raw):
    src = read_file(write_raw("min.json", '[{"q": "x", "a": "y"}, {"q": "z", "a": "w"}, 3]'))
    assert ([r.line for r in src.records], src.numbering) == ([1, 2, 3], "index")
    assert src.records[2].raw == "3"


def test_content_beats_a_misleading_extension(write_raw):
    lines = '{"q": "x", "a": "y"}\n{"q": "z", "a": "w"}\n'
    assert read_file(write_raw("lines.txt", lines)).format == "jsonl"
    assert read_file(write_raw("tabs.csv", "q\ta\nx\ty\n")).format == "tsv"
    text = "[谜语]\n问：x\n答：y\n"  # a text file that starts with a bracket is still text
    assert records(write_raw("brackets.txt", text)) == [
        (1, "unparsed_text"),  # a title line is not a riddle, but it is not lost either
        (2, {"问": "x", "答": "y"}),
    ]


def test_empty_files_and_stray_json_values(write_raw):
    assert read_file(write_raw("empty.json", "  \n")).records == []
    assert read_file(write_raw("empty.csv", "")).records == []
    assert records(write_raw("scalar.json", '"just text"')) == [(1, "just text")]


@pytest.mark.parametrize(
    "doc", ["{}", '{"data": []}', '{"name": "mine", "data": {"train": []}}', "[]"]
)
def test_json_holding_no_records_gives_none(write_raw, doc):
    """An empty object or a wrapper of an empty list is a file of no records, not one
    missing_field reject."""
    assert read_file(write_raw("none.json", doc)).records == []


def test_object_without_records_or_lists_is_still_one_record(write_raw):
    assert records(write_raw("stray.json", '{"title": "x"}')) == [(1, {"title": "x"})]
    assert records(write_raw("m.json", '{"messages": []}')) == [(1, {"messages": []})]


_TEXT_LINES = st.sampled_from(
    [
        "问：什么东西越洗越脏？",
        "答：水",
        "谜面：一口咬掉牛尾巴",
        "谜底：告",
        "类别：字谜",
        "Q: What?",
        "A: That",
        "（打一字）",
        "stray text",
        "泥菩萨过江——自身难保",
        "",
        "  ",
        "# a comment",
        "问：什么？ 答：啥",
        "答：",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXT_LINES, max_size=25))
def test_text_blocks_lose_no_line(lines):
    """Every non-blank, non-comment line lands in exactly one record, in order."""
    recs = list(read_text("\n".join(lines), Path("t.txt")))
    expected = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    assert [ln for r in recs for ln in r.raw.split("\n")] == expected
    starts = [r.line for r in recs]
    assert starts == sorted(set(starts))
    assert all(lines[r.line - 1] == r.raw.split("\n")[0] for r in recs)


def test_csv_row_of_empty_cells_is_a_record_and_a_huge_cell_loses_its_row_only(write_raw):
    assert records(write_raw("a.csv", "q,a\n,\n\n")) == [(2, {"q": "", "a": ""})]
    for quote in ("", '"'):
        huge = quote + "x" * 200_000 + quote
        path = write_raw("huge.csv", f"q,a\n{huge},y\nok,fine\n")
        recs = read_file(path).records
        assert [(r.line, r.value, r.error and r.error[0]) for r in recs] == [
            (2, None, "too_long"),
            (3, {"q": "ok", "a": "fine"}, None),
        ]
        assert recs[0].raw == f"{huge},y"
        assert "longer than 131,072 characters" in recs[0].error[1]


def test_corrupt_gzip_is_an_input_error(write_raw):
    with pytest.raises(InputError, match="bad.json.gz: cannot read"):
        read_file(write_raw("bad.json.gz", b"\x1f\x8b\x08\x00garbage"))
