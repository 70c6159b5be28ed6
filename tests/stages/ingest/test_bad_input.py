"""Hostile inputs to `curate ingest` (issue 12): nothing dropped uncounted, no tracebacks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from curate import io
from curate.cli import main
from curate.errors import InputError
from curate.stages.ingest import IngestConfig, ingest
from curate.stages.ingest.readers import read_file

FOUR = [
    ("什么东西越洗越脏？", "水"),
    ("什么门永远关不上？", "球门"),
    ("一口咬掉牛尾巴", "告"),
    ("什么床不能睡？", "牙床"),
]


def rejects(project: Path) -> list[dict]:
    return io.read_jsonl(project / "processed" / "ingested.rejects.jsonl")


def kept(project: Path) -> list[dict]:
    import polars as pl

    return pl.read_parquet(project / "processed" / "ingested.parquet").to_dicts()


# 1. JSON wrapper objects with several record lists


def test_every_list_of_a_wrapper_object_is_read_with_its_key_in_meta(project, write_raw):
    doc = {
        "train": [{"q": q, "a": a} for q, a in FOUR[:2]],
        "validation": [{"q": q, "a": a} for q, a in FOUR[2:]],
    }
    write_raw("splits.json", doc)
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (4, 4)
    lists = [json.loads(row["meta"])["list"] for row in kept(project)]
    assert lists == ["train", "train", "validation", "validation"]


def test_a_duplicated_data_key_loses_no_list(project, write_raw):
    write_raw(
        "dup.json",
        '{"data": [{"q": "什么东西越洗越脏？", "a": "水"}],\n "data": [{"q": "什么门永远关不上？", '
        '"a": "球门"}, {"q": "一口咬掉牛尾巴", "a": "告"}]}',
    )
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (3, 3)
    assert [row["line"] for row in kept(project)] == [1, 2, 3]  # index: two lists on line 1-2


# 2. CSV/TSV quotes


def test_csv_unclosed_quote_rejects_that_row_and_reads_the_rest(project, write_raw):
    rows = "\n".join(f"{q},{a}" for q, a in FOUR[1:])
    write_raw("a.csv", f'question,answer\n什么东西越洗越脏？,"水\n{rows}\n')
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept, result.rejected) == (4, 3, 1)
    (bad,) = rejects(project)
    assert (bad["reason"], bad["line"]) == ("unclosed_quote", 2)
    assert bad["raw"] == '什么东西越洗越脏？,"水'
    assert [r["answer"] for r in kept(project)] == ["球门", "告", "牙床"]


def test_tsv_quotes_are_text_unless_the_file_is_quoted(project, write_raw):
    text = 'question\tanswer\n"小"字加一点\t卜\n"开头的引号\t没有闭合\n下一行\t好\n'
    path = write_raw("a.tsv", text)
    values = [r.value for r in read_file(path).records]
    assert values == [
        {"question": '"小"字加一点', "answer": "卜"},
        {"question": '"开头的引号', "answer": "没有闭合"},
        {"question": "下一行", "answer": "好"},
    ]
    quoted = write_raw("q.tsv", 'question\tanswer\n"a\tb"\t"第一行\n第二行"\n"x"\t"y"\n')
    values = [r.value for r in read_file(quoted).records]
    assert values == [
        {"question": "a\tb", "answer": "第一行\n第二行"},
        {"question": "x", "answer": "y"},
    ]


def test_multi_line_quoted_answers_stay_readable(write_raw):
    text = 'question,answer\n"多行的\n问题, 带逗号",答\n谜面,"第一行\n第二行, 还有"\n最后,一行\n'
    src = read_file(write_raw("m.csv", text))
    assert [(r.line, r.value) for r in src.records] == [
        (2, {"question": "多行的\n问题, 带逗号", "answer": "答"}),
        (4, {"question": "谜面", "answer": "第一行\n第二行, 还有"}),
        (6, {"question": "最后", "answer": "一行"}),
    ]


def test_unclosed_quote_on_the_last_row(write_raw):
    text = 'question,answer\n什么门永远关不上？,球门\n一口咬掉牛尾巴,"告\n'
    src = read_file(write_raw("e.csv", text))
    assert [r.error[0] if r.error else r.value["answer"] for r in src.records] == [
        "球门",
        "unclosed_quote",
    ]


# 3. CSV header


def test_csv_without_a_header_keeps_its_first_riddle(project, write_raw):
    write_raw("noheader.csv", "\n".join(f"{q},{a}" for q, a in FOUR) + "\n")
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (4, 4)
    assert kept(project)[0]["question"] == FOUR[0][0]
    assert any("noheader.csv" in w and "without a header" in w for w in result.warnings)
    manifest = json.loads((project / "processed" / "ingested.manifest.json").read_text())
    assert manifest["warnings"] == list(result.warnings)


def test_a_header_of_unknown_names_stays_a_header(write_raw):
    src = read_file(write_raw("h.csv", "riddle_text,anwser\n什么东西越洗越脏？,水\n"))
    assert [r.value for r in src.records] == [{"riddle_text": "什么东西越洗越脏？", "anwser": "水"}]
    path = write_raw("n.csv", "谜语内容,结果\n什么东西越洗越脏？,水\n")
    src = read_file(path, names=("谜语内容",))  # --question-field 谜语内容
    assert [r.value for r in src.records] == [{"谜语内容": "什么东西越洗越脏？", "结果": "水"}]


def test_duplicate_column_names_keep_both(project, write_raw):
    write_raw("dup.csv", "question,answer,answer\n什么东西越洗越脏？,旧答案,水\n")
    ingest(IngestConfig())
    (row,) = kept(project)
    assert row["answer"] == "水" and json.loads(row["meta"]) == {"answer#2": "旧答案"}


# 4. unreadable folders and files, links


def test_an_unreadable_subfolder_is_an_error_naming_it(project, write_raw, monkeypatch):
    write_raw("a.jsonl", '{"q": "x", "a": "y"}\n')
    write_raw("locked/b.jsonl", '{"q": "x", "a": "y"}\n')
    scandir = os.scandir

    def denied(path):  # as root, chmod 000 does not stop a read: refuse like the OS would
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "raw/locked" in result.output


def test_an_unreadable_file_is_an_error_naming_it(project, write_raw, monkeypatch):
    path = write_raw("a.jsonl", '{"q": "x", "a": "y"}\n')
    read_bytes = Path.read_bytes

    def denied(self):
        if self.name == "a.jsonl":
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(InputError, match=r"a\.jsonl: cannot read .*Permission denied"):
        read_file(path)


def test_symlink_loops_and_dangling_links_are_reported(project, write_raw):
    write_raw("sub/a.jsonl", '{"q": "什么东西越洗越脏？", "a": "水"}\n')
    raw = project / "raw"
    (raw / "loop.jsonl").symlink_to("loop.jsonl")
    (raw / "gone.jsonl").symlink_to("nothing-here.jsonl")
    (raw / "sub" / "up").symlink_to("..")  # a folder link back to its parent
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    for name in ("raw/loop.jsonl", "raw/gone.jsonl", "raw/sub/up"):
        assert name in out
    manifest = json.loads((project / "processed" / "ingested.manifest.json").read_text())
    assert manifest["counts"]["kept"] == 1
    assert [w.split(":")[0] for w in manifest["warnings"]] == [
        "raw/gone.jsonl",
        "raw/loop.jsonl",
        "raw/sub/up",
    ]


# 5. the processed folder inside a source folder


def test_processed_inside_the_source_folder_is_not_read_again(project, write_raw):
    write_raw("a.jsonl", "".join(json.dumps({"q": q, "a": a}) + "\n" for q, a in FOUR))
    write_raw("bad.jsonl", '{"q": "", "a": "x"}\n')
    config = IngestConfig(processed=Path("raw/out"))
    counts = [(r.n_in, r.kept, r.rejected) for r in (ingest(config) for _ in range(3))]
    assert counts == [(5, 4, 1)] * 3
    assert any(w.startswith("raw/out") and "processed" in w for w in ingest(config).warnings)


# 7. lone surrogates


def test_a_lone_surrogate_rejects_its_record_only(project, write_raw):
    write_raw("s.jsonl", '{"q": "\\ud800什么", "a": "x"}\n{"q": "什么门", "a": "球门"}\n')
    write_raw("s.json", '[{"q": "一口咬掉牛尾巴", "a": "\\udfff"}, {"q": "什么床", "a": "牙床"}]')
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept, result.rejected) == (4, 2, 2)
    assert result.reasons == {"bad_unicode": 2}
    assert {r["raw"] for r in rejects(project)} == {
        '{"q": "\\ud800什么", "a": "x"}',
        '{"q": "一口咬掉牛尾巴", "a": "\\udfff"}',
    }


# 11. silent coercions and garbled messages


def test_nan_and_infinity_are_rejected_not_kept_as_text(project, write_raw):
    write_raw("n.jsonl", '{"q": NaN, "a": "x"}\n{"q": "y", "a": Infinity}\n{"q": "z", "a": 2.5}\n')
    result = ingest(IngestConfig())
    assert result.reasons == {"not_a_number": 2} and result.kept == 1


def test_parquet_whole_numbers_with_a_null_stay_whole(project):
    table = pa.table({"q": ["一加一等于几？", "二加二呢？"], "a": pa.array([2.0, None])})
    pq.write_table(table, project / "raw" / "p.parquet")  # what pandas writes for [2, None]
    result = ingest(IngestConfig())
    assert result.kept == 1 and kept(project)[0]["answer"] == "2"
    assert rejects(project)[0]["reason"] == "missing_field"


def test_a_literal_tab_in_a_json_string_gets_a_clean_detail(project, write_raw):
    write_raw("t.jsonl", '{"q": "什么\t东西", "a": "水"}\n')
    ingest(IngestConfig())
    (bad,) = rejects(project)
    assert bad["reason"] == "malformed_json"
    assert "at at" not in bad["detail"] and "tab" in bad["detail"] and "column 10" in bad["detail"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cr.jsonl", "".join(json.dumps({"q": q, "a": a}) + "\r" for q, a in FOUR[:3])),
        ("cr.csv", "question,answer\r" + "".join(f"{q},{a}\r" for q, a in FOUR[:3])),
        ("cr.txt", "".join(f"问：{q}\r答：{a}\r\r" for q, a in FOUR[:3])),
    ],
)
def test_cr_only_line_endings_split_records(project, write_raw, name, text):
    write_raw(name, text)
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (3, 3)


def test_a_file_name_that_is_not_utf8_is_an_error_naming_it(project):
    (project / "raw" / os.fsdecode(b"bad\xffname.jsonl")).write_text('{"q": "x", "a": "y"}\n')
    with pytest.raises(InputError, match=r"raw/bad\\xffname\.jsonl: the file name is not valid"):
        ingest(IngestConfig())


def test_one_record_holding_a_list_of_objects_stays_one_record(write_raw):
    doc = {"question": "什么东西越洗越脏？", "answer": "水", "hints": [{"text": "喝的"}]}
    assert [r.value for r in read_file(write_raw("one.json", doc)).records] == [doc]
