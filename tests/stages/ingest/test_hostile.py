"""More hostile inputs to `curate ingest`: every record read and accounted for, no tracebacks."""

from __future__ import annotations

import decimal
import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate import io
from curate.errors import InputError
from curate.stages.ingest import IngestConfig, ingest

FOUR = [
    ("什么东西越洗越脏？", "水"),
    ("什么门永远关不上？", "球门"),
    ("一口咬掉牛尾巴", "告"),
    ("什么床不能睡？", "牙床"),
]


def kept(project: Path) -> list[dict]:
    return pl.read_parquet(project / "processed" / "ingested.parquet").to_dicts()


def rejects(project: Path) -> list[dict]:
    return io.read_jsonl(project / "processed" / "ingested.rejects.jsonl")


def test_records_in_nested_wrapper_objects_are_read(project, write_raw):
    write_raw("nested.json", {"data": {"data": [{"q": q, "a": a} for q, a in FOUR[:2]]}})
    splits = {"train": [{"q": q, "a": a} for q, a in FOUR[2:]], "test": [{"q": "x", "a": ""}]}
    write_raw("splits.json", {"version": 2, "payload": splits})
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (5, 4)
    rows = kept(project)
    assert [(r["question"], r["answer"]) for r in rows] == FOUR
    assert [json.loads(r["meta"]).get("list") for r in rows[2:]] == ["payload.train"] * 2
    assert [r["reason"] for r in rejects(project)] == ["empty_answer"]


def test_a_legacy_file_with_a_corrupt_byte_loses_only_its_record(project, write_raw):
    riddles = [(f"{q}（第{i}则）", a) for i in range(10) for q, a in FOUR]
    text = "谜面,谜底\n" + "".join(f"{q},{a}\n" for q, a in riddles)
    big5 = text.translate(str.maketrans("么东这脏门远关谜则", "麼東這髒門遠關謎則"))  # traditional
    for name, encoding, content in (("gbk.csv", "gb18030", text), ("big5.csv", "big5", big5)):
        data = bytearray(content.encode(encoding))
        at = data.index("球".encode(encoding))
        data[at + 1] = 0xFF  # the second byte of 球: its first byte is left alone too
        write_raw(name, bytes(data))
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (80, 78)
    assert {s.encoding for s in result.files} == {
        "gb18030 (2 invalid byte sequences replaced)",
        "big5 (2 invalid byte sequences replaced)",
    }
    bad = rejects(project)
    assert [(r["source"], r["line"], r["reason"]) for r in bad] == [
        ("raw/big5.csv", 3, "mojibake"),
        ("raw/gbk.csv", 3, "mojibake"),
    ]


def test_semicolon_and_pipe_separated_csv_files_are_read(project, write_raw):
    rows = "".join(f'"{q}";{a}\n' for q, a in FOUR[:2])
    write_raw("excel.csv", "谜面;谜底\n" + rows)
    write_raw("excel_gbk.csv", ("谜面;谜底\n" + rows).encode("gbk"))  # read whole, not streamed
    write_raw("pipe.csv", "question|answer|note\n" + "".join(f"{q}|{a}|x;y\n" for q, a in FOUR))
    write_raw("hint.csv", "sep=;\r\n谜面;谜底\r\n" + rows)  # Excel names the separator
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (10, 10)
    got = [(r["source"], r["line"], r["question"], r["answer"], r["meta"]) for r in kept(project)]
    assert got[0] == ("raw/excel.csv", 2, *FOUR[0], "{}")
    assert got[2] == ("raw/excel_gbk.csv", 2, *FOUR[0], "{}")
    assert got[4] == ("raw/hint.csv", 3, *FOUR[0], "{}")
    assert got[6:] == [
        ("raw/pipe.csv", i, q, a, '{"note": "x;y"}') for i, (q, a) in enumerate(FOUR, 2)
    ]


def test_nan_in_an_unmapped_field_leaves_meta_valid_json(project, write_raw):
    frame = pl.DataFrame({"问题": [q for q, _ in FOUR[:2]], "答案": ["水", "球门"]})
    frame.with_columns(score=pl.Series([float("nan"), 0.5])).write_parquet(
        project / "raw" / "pandas.parquet"
    )
    write_raw("nan.jsonl", '{"q": "一口咬掉牛尾巴", "a": "告", "x": [NaN, -Infinity, 1.5]}\n')
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (3, 3)
    metas = [json.loads(r["meta"], parse_constant=_not_json) for r in kept(project)]
    assert metas == [{"x": [None, None, 1.5]}, {"score": None}, {"score": 0.5}]


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def test_parquet_decimal_answers_are_numbers_as_written(project):
    answers = pa.array([decimal.Decimal("1.50"), decimal.Decimal("2.00")], pa.decimal128(5, 2))
    pq.write_table(
        pa.table({"question": ["三块钱花掉一半还剩几块？", "一加一？"], "answer": answers}),
        project / "raw" / "money.parquet",
    )
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (2, 2)
    assert [r["answer"] for r in kept(project)] == ["1.50", "2.00"]


def test_a_cell_too_big_for_csv_loses_only_its_row(project, write_raw):
    rows = [f"{q},{a}\n" for q, a in FOUR]
    rows[1] = "谜" * 150_000 + ",x\n"  # past Python csv's field size limit (131,072)
    write_raw("big.csv", "question,answer\n" + "".join(rows))
    write_raw("big.tsv", "question\tanswer\n" + "".join(rows).replace(",", "\t"))
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (8, 6)
    assert [(r["source"], r["line"], r["reason"]) for r in rejects(project)] == [
        ("raw/big.csv", 3, "too_long"),
        ("raw/big.tsv", 3, "too_long"),
    ]


def test_text_markers_in_brackets_and_answers_after_a_bracket_or_comma(project, write_raw):
    write_raw(
        "web.txt",
        "【谜面】一口咬掉牛尾巴（打一字）\n【谜底】告\n\n"
        "谜面：千里相逢（打一字）谜底：重\n\n"
        "【谜面】有头没有尾【谜底】蛇\n\n"
        "题目：小时候四条腿，答案：人\n",
    )
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (4, 4)
    assert [(r["line"], r["question"], r["answer"]) for r in kept(project)] == [
        (1, "一口咬掉牛尾巴（打一字）", "告"),
        (4, "千里相逢（打一字）", "重"),
        (6, "有头没有尾", "蛇"),
        (8, "小时候四条腿", "人"),
    ]


def test_files_joined_with_cat_keep_every_record(project, write_raw):
    bom = "\ufeff"
    halves = [FOUR[:2], FOUR[2:]]
    csv_text = "".join(
        f"{bom}question,answer\n" + "".join(f"{q},{a}\n" for q, a in h) for h in halves
    )
    write_raw("joined.csv", csv_text)
    write_raw("joined.jsonl", "".join(f'{bom}{{"q": "{q}", "a": "{a}"}}\n' for q, a in FOUR))
    write_raw("joined.txt", "".join(f"{bom}问：{q}\n答：{a}\n\n" for q, a in FOUR))
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (12, 12)
    assert [(r["question"], r["answer"]) for r in kept(project)] == FOUR * 3
    assert result.warnings == (
        "raw/joined.csv: line 4 repeats the header (files joined together?); rows repeating "
        "it are skipped",
    )


def test_a_note_after_the_answer_goes_to_meta_not_into_the_answer(project, write_raw):
    write_raw(
        "notes.txt",
        "问：什么东西越洗越脏？\n答：水\n解释：越洗\n水越脏\n\n"
        "谜面：一口咬掉牛尾巴（打一字）\n提示：牛字去掉尾巴\n谜底：告\n\n"
        "问：麻屋子，红帐子，\n里面住着白胖子\n答：花生\n",
    )
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (3, 3)
    rows = [(r["question"], r["answer"], json.loads(r["meta"])) for r in kept(project)]
    assert rows == [
        ("什么东西越洗越脏？", "水", {"解释": "越洗\n水越脏"}),  # meta is kept as written
        ("一口咬掉牛尾巴（打一字）", "告", {"提示": "牛字去掉尾巴"}),
        ("麻屋子，红帐子，里面住着白胖子", "花生", {}),
    ]


def test_double_spaced_text_keeps_each_question_with_its_answer(project, write_raw):
    blocks = "".join(f"问：{q}\n\n答：{a}\n\n" for q, a in FOUR)
    write_raw("spaced.txt", blocks + "问：只有问题\n\n随便一行\n")
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (6, 4)
    assert [(r["line"], r["question"], r["answer"]) for r in kept(project)] == [
        (1 + 4 * i, q, a) for i, (q, a) in enumerate(FOUR)
    ]
    assert [(r["line"], r["reason"]) for r in rejects(project)] == [
        (17, "missing_field"),
        (19, "unparsed_text"),
    ]


def test_pandas_to_json_tables_are_read_row_by_row(project):
    import pandas as pd

    frame = pd.DataFrame({"question": [q for q, _ in FOUR], "answer": [a for _, a in FOUR]})
    frame["level"] = [1, 2, 3, None]
    raw = project / "raw"
    frame.to_json(raw / "columns.json", force_ascii=False)  # pandas' default layout
    frame.to_json(raw / "index.json", orient="index", force_ascii=False, indent=2)
    frame.to_json(raw / "split.json", orient="split", force_ascii=False)
    frame.to_json(raw / "table.json", orient="table", force_ascii=False)  # schema + data
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (16, 16)
    rows = kept(project)
    assert [(r["question"], r["answer"]) for r in rows] == FOUR * 4
    assert [r["line"] for r in rows] == [1, 2, 3, 4] * 4
    assert json.loads(rows[4]["meta"]) == {"key": "0", "level": 1.0}
    assert {s.numbering for s in result.files} == {"index"}


def test_a_table_saved_as_txt_is_read_as_a_table(project, write_raw):
    write_raw("excel.txt", "谜面\t谜底\n" + "".join(f"{q}\t{a}\n" for q, a in FOUR))  # Excel's
    write_raw("table.txt", "question;answer\n" + "".join(f"{q};{a}\n" for q, a in FOUR[:2]))
    write_raw("gbk.txt", ("谜面\t谜底\n" + "".join(f"{q}\t{a}\n" for q, a in FOUR)).encode("gbk"))
    write_raw("qa.txt", "问：什么东西,越洗越脏？\n答：水\n")  # a comma, but 问/答 lines
    result = ingest(IngestConfig())
    assert [(s.path, s.format, s.kept) for s in result.files] == [
        ("raw/excel.txt", "tsv", 4),
        ("raw/gbk.txt", "tsv", 4),
        ("raw/qa.txt", "text", 1),
        ("raw/table.txt", "csv", 2),
    ]
    assert result.n_in == result.kept == 11


def test_json_lines_with_a_trailing_comma_or_encoded_twice_are_read(project, write_raw):
    lines = [json.dumps({"q": q, "a": a}, ensure_ascii=False) for q, a in FOUR]
    write_raw("commas.jsonl", "".join(f"{line},\n" for line in lines[:2]) + '{"q": 1},,\n')
    write_raw("twice.jsonl", "".join(json.dumps(line) + "\n" for line in lines[2:]) + '"{oops"\n')
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (6, 4)
    assert [(r["question"], r["answer"]) for r in kept(project)] == FOUR
    assert [(r["line"], r["reason"]) for r in rejects(project)] == [
        (3, "malformed_json"),  # two commas: not just an array's separator
        (3, "not_an_object"),
    ]


def test_pretty_printed_records_one_after_another_are_read(project, write_raw):
    """What `jq '.[]'` writes: each record over several lines, no array around them."""
    docs = [json.dumps({"q": q, "a": a}, ensure_ascii=False, indent=2) for q, a in FOUR]
    write_raw("jq.jsonl", "\n".join(docs[:2]) + "\n")
    write_raw("jq.json", "\n".join(docs[2:]) + "\n")
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (4, 4)
    rows = kept(project)
    assert [(r["source"], r["line"]) for r in rows] == [
        ("raw/jq.json", 1),
        ("raw/jq.json", 5),
        ("raw/jq.jsonl", 1),
        ("raw/jq.jsonl", 5),
    ]
    assert [(r["question"], r["answer"]) for r in rows] == FOUR[2:] + FOUR[:2]


def test_a_small_utf8_file_cut_inside_its_last_character_loses_only_that_record(project, write_raw):
    write_raw("cut.txt", "问：牛尾巴\n答：告\n\n问：什么门\n答：球门".encode()[:-1])  # 门 cut
    result = ingest(IngestConfig())
    assert (result.n_in, result.kept) == (2, 1)
    assert result.files[0].encoding == "utf-8 (1 invalid byte sequence replaced)"
    assert [(r["line"], r["reason"]) for r in rejects(project)] == [(4, "mojibake")]


def test_spreadsheets_and_archives_are_named_not_skipped_silently(project, write_raw):
    write_raw("book.xlsx", b"PK\x03\x04 an Excel workbook")
    write_raw("old/data.zip", b"PK\x03\x04")
    with pytest.raises(
        InputError,
        match=r"no input files in raw .*raw/book.xlsx: skipped, a "
        "spreadsheet curate cannot read: save it as CSV",
    ):
        ingest(IngestConfig())
    write_raw("a.csv", "question,answer\n" + "".join(f"{q},{a}\n" for q, a in FOUR))
    result = ingest(IngestConfig())
    assert result.kept == 4
    assert result.warnings == (
        "raw/book.xlsx: skipped, a spreadsheet curate cannot read: save it as CSV UTF-8 (or "
        "Unicode Text) beside it",
        "raw/old/data.zip: skipped, an archive curate cannot read: unpack it (or gzip single "
        "files)",
    )
    with pytest.raises(InputError, match="raw/book.xlsx: a spreadsheet curate cannot read"):
        ingest(IngestConfig(sources=(Path("raw/book.xlsx"),)))


def test_a_misspelt_field_flag_is_named_in_a_warning(project, write_raw):
    write_raw("a.csv", "谜面,谜底\n" + "".join(f"{q},{a}\n" for q, a in FOUR))
    result = ingest(IngestConfig(question_field="迷面"))
    assert (result.kept, result.reasons["missing_field"]) == (0, 4)
    assert result.warnings == (
        "raw/a.csv: every record was rejected as missing_field, with --question-field '迷面' "
        "given: check the name (the rejects list the fields each record has)",
    )
    assert ingest(IngestConfig(question_field="谜面")).warnings == ()
