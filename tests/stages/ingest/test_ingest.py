"""`curate ingest`: real files of every format and encoding in, three stage files out,
every non-blank input record accounted for exactly once."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from curate.cli import main
from curate.io import read_jsonl
from curate.record import COLUMNS, REASONS
from curate.stages.ingest import IngestConfig, ingest, jsonl, process, progress_bar


def run(*args: str):
    return CliRunner().invoke(main, ["ingest", *args])


def outputs(processed: Path = Path("processed")):
    kept = pl.read_parquet(processed / "ingested.parquet")
    rejects = read_jsonl(processed / "ingested.rejects.jsonl")
    manifest = json.loads((processed / "ingested.manifest.json").read_text(encoding="utf-8"))
    return kept, rejects, manifest


@pytest.fixture
def corpus(write_raw, project):
    """One small file per format and encoding, 2 good records and some broken ones each."""
    write_raw(
        "a.json",
        [
            {"riddle": "什么东西越洗越脏？", "answer": "水"},
            {"riddle": "坐飞机撵（ni", "answer": "n追赶）西北风"},
        ],
    )
    write_raw(
        "b.jsonl",
        '{"q": "什么门永远关不上？", "a": "球门"}\n\n{"q": broken\n'
        '{"messages": [{"role": "user", "content": "谜"}, '
        '{"role": "assistant", "content": "底"}]}\n',
    )
    write_raw(
        "c.csv",
        '题目,答案,类别\r\n"一口咬掉牛尾巴，猜一字",告,字谜\r\n空答案,,字谜\r\n',
        encoding="gbk",
    )
    write_raw("d.tsv", "question\tanswer\n什麼人一年只上一天班？\t聖誕老人\n", encoding="big5")
    write_raw("e.txt", "问：什么东西有头无脚？\n答：砖头\n\n这行不是问答\n", encoding="utf-8-sig")
    write_raw(
        "f.json",
        {
            "data": [
                {
                    "instruction": "猜一字",
                    "input": "十张口，一颗心",
                    "output": "思",
                    "source": "book",
                }
            ]
        },
    )
    write_raw("g.jsonl.gz", gzip.compress(b'{"question": "Q", "answer": "Q"}\n'))
    pl.DataFrame({"问题": ["什么布剪不断？"], "答案": ["瀑布"]}).write_parquet(
        project / "raw" / "h.parquet"
    )
    return project


def test_ingest_every_format_and_encoding(corpus):
    result = run()
    assert result.exit_code == 0, result.output
    assert "13 read, 8 kept, 5 rejected" in result.output
    kept, rejects, manifest = outputs()
    assert kept.columns == COLUMNS
    assert manifest["counts"] == {"in": 13, "kept": 8, "rejected": 5}
    assert manifest["reasons"] == {
        "answer_equals_question": 1,
        "empty_answer": 1,
        "malformed_json": 1,
        "split_note": 1,
        "unparsed_text": 1,
    }
    by_file = {i["path"]: (i["format"], i["encoding"], i["records"]) for i in manifest["inputs"]}
    assert by_file == {
        "raw/a.json": ("json", "utf-8", 2),
        "raw/b.jsonl": ("jsonl", "utf-8", 3),
        "raw/c.csv": ("csv", "gb18030", 2),
        "raw/d.tsv": ("tsv", "big5", 1),
        "raw/e.txt": ("text", "utf-8-sig", 2),
        "raw/f.json": ("json", "utf-8", 1),
        "raw/g.jsonl.gz": ("jsonl", "utf-8", 1),
        "raw/h.parquet": ("parquet", None, 1),
    }
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    rows = {r["question"]: r for r in kept.to_dicts()}
    assert rows["什么人一年只上一天班？"]["answer"] == "圣诞老人"  # Big5 + t2s
    assert rows["什么人一年只上一天班？"]["question_raw"] == "什麼人一年只上一天班？"
    assert rows["一口咬掉牛尾巴，猜一字"]["category"] == "字谜"
    assert rows["猜一字：十张口，一颗心"]["meta"] == '{"source": "book"}'  # input joined
    assert rows["谜"]["answer"] == "底"
    assert rows["什么布剪不断？"]["line"] == 1
    for r in rejects:
        assert r["raw"] and r["source"].startswith("raw/") and r["reason"] in REASONS
    assert {(r["source"], r["line"]) for r in rejects} >= {("raw/b.jsonl", 3), ("raw/e.txt", 4)}


def test_reasons_and_raw_text_of_rejects(corpus):
    run()
    _, rejects, manifest = outputs()
    got = {(r["source"], r["line"]): (r["reason"], r["raw"]) for r in rejects}
    assert got[("raw/a.json", 6)] == (
        "split_note",
        '{\n  "riddle": "坐飞机撵（ni",\n  "answer": "n追赶）西北风"\n }',
    )
    assert got[("raw/b.jsonl", 3)] == ("malformed_json", '{"q": broken')
    assert got[("raw/c.csv", 3)] == ("empty_answer", "空答案,,字谜")
    assert got[("raw/e.txt", 4)] == ("unparsed_text", "这行不是问答")
    assert got[("raw/g.jsonl.gz", 1)][0] == "answer_equals_question"
    assert manifest["reasons"] == dict(sorted(Counter(r["reason"] for r in rejects).items()))


def test_output_is_deterministic(corpus):
    run()
    first = {p.name: p.read_bytes() for p in Path("processed").iterdir()}
    run()
    assert {p.name: p.read_bytes() for p in Path("processed").iterdir()} == first


def test_the_order_of_the_arguments_changes_no_byte_of_the_data(corpus):
    def data() -> dict[str, bytes]:  # not the manifest: it lists the arguments as given
        names = ("ingested.parquet", "ingested.rejects.jsonl")
        return {n: (Path("processed") / n).read_bytes() for n in names}

    files = sorted(str(p) for p in Path("raw").iterdir())
    run(*files)
    first = data()
    run(*reversed(files))
    assert data() == first
    run("raw")  # and a folder gives its files in the same order
    assert data() == first


def test_flags_switch_filters_fields_and_conversion(write_raw, project):
    write_raw("a.jsonl", '{"title": "謎（面", "sol": "謎底", "question": "x"}\n')
    assert run("--question-field", "title").exit_code == 0
    _, rejects, _ = outputs()
    assert rejects[0]["reason"] == "missing_field"
    result = run(
        "--question-field",
        "title",
        "--answer-field",
        "sol",
        "--no-filter",
        "unbalanced_brackets",
        "--convert",
        "none",
    )
    assert result.exit_code == 0, result.output
    kept, _, manifest = outputs()
    assert kept["question"].to_list() == ["謎（面"]
    assert json.loads(kept["meta"][0]) == {"question": "x"}
    assert manifest["params"]["disabled_filters"] == ["unbalanced_brackets"]
    assert (
        run(
            "--max-answer-chars",
            "1",
            "--question-field",
            "title",
            "--answer-field",
            "sol",
            "--no-filter",
            "unbalanced_brackets",
        ).exit_code
        == 0
    )
    assert outputs()[1][0]["reason"] == "too_long"


def test_forced_encoding(write_raw, project):
    write_raw("gbk.csv", "谜面,谜底\n什么门永远关不上？,球门\n", encoding="gbk")
    result = run("--encoding", "gbk")
    assert result.exit_code == 0, result.output
    kept, _, manifest = outputs()
    assert kept["answer"].to_list() == ["球门"]
    assert manifest["inputs"][0]["encoding"] == "gbk"
    result = run("--encoding", "utf-8")
    assert result.exit_code == 1
    assert "raw/gbk.csv: cannot be decoded as utf-8" in result.output


def test_a_few_corrupt_bytes_lose_only_their_record(write_raw, project):
    good = "".join(f'{{"q": "什么东西越洗越脏{i}？", "a": "水"}}\n' for i in range(5))
    write_raw("a.jsonl", good.encode() + '{"q": "坏'.encode() + b"\xff" + b'", "a": "x"}\n')
    assert run().exit_code == 0
    kept, rejects, manifest = outputs()
    assert kept.height == 5
    assert [(r["line"], r["reason"]) for r in rejects] == [(6, "mojibake")]
    assert manifest["inputs"][0]["encoding"] == "utf-8 (1 invalid byte sequence replaced)"


def test_one_binary_line_in_an_ascii_escaped_jsonl_loses_only_that_line(write_raw, project):
    # json.dumps' default escapes every Chinese character: the file is plain ASCII, so the
    # share of bad bytes among its (zero) wide characters says nothing about its encoding.
    rows = [json.dumps({"q": f"什么门永远关不上{i}？", "a": "球门"}) for i in range(2000)]
    data = "\n".join(rows).encode().replace(rows[7].encode(), b"\xff\xfe\x00 binary")
    write_raw("escaped.jsonl", data + b"\n")
    assert run().exit_code == 0
    kept, rejects, _ = outputs()
    assert kept.height == 1999
    assert [(r["line"], r["reason"]) for r in rejects] == [(8, "malformed_json")]


def test_json_nested_past_the_parsers_depth_is_bad_json_not_a_crash(write_raw, project):
    deep = "[" * 5000 + "]" * 5000
    write_raw("a.jsonl", f'{{"q": "什么门永远关不上？", "a": "球门"}}\n{deep}\n')
    assert run().exit_code == 0
    kept, rejects, _ = outputs()
    assert kept.height == 1
    assert [(r["line"], r["reason"]) for r in rejects] == [(2, "malformed_json")]
    assert "nested too deeply" in rejects[0]["detail"]
    write_raw("b.json", deep)
    result = run()
    assert result.exit_code == 1
    assert "raw/b.json: not valid JSON at line 1 column 1 (nested too deeply)" in result.output


def test_punctuation_only_is_rejected_emoji_riddles_are_kept(write_raw, project):
    rows = [("？？？", "水"), ("什么门永远关不上？", "……"), ("🐍🎨👣", "画蛇添足")]
    write_raw("a.jsonl", "".join(json.dumps({"q": q, "a": a}) + "\n" for q, a in rows))
    assert run().exit_code == 0
    kept, rejects, _ = outputs()
    assert kept["answer"].to_list() == ["画蛇添足"]
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (1, "punctuation_only"),
        (2, "punctuation_only"),
    ]
    assert "the answer has only punctuation" in rejects[1]["detail"]


def test_undecodable_file_is_a_clear_error(write_raw, project):
    write_raw("ok.jsonl", '{"q": "x", "a": "y"}\n')
    write_raw("broken.txt", b"\xff\xfe\xfd garbage \x80\x81 \xff\n")
    result = run()
    assert result.exit_code == 1
    assert "Error: raw/broken.txt: not valid UTF-8" in result.output
    assert "--encoding gbk" in result.output
    assert not Path("processed/ingested.parquet").exists()  # nothing half-written


def test_malformed_json_file_and_bad_flags_are_clear_errors(write_raw, project):
    write_raw("bad.json", '[\n {"q": "x",\n}\n]')
    result = run()
    assert result.exit_code == 1
    assert "raw/bad.json: not valid JSON at line 3" in result.output
    assert ".jsonl" in result.output
    assert "unknown filter nope" in run("raw/bad.json", "--no-filter", "nope").output
    assert "unknown --convert" in run("raw/bad.json", "--convert", "x2y").output
    assert "no such file or directory" in run("missing.csv").output


def test_jsonl_line_holding_an_array_counts_every_record(write_raw, project, monkeypatch):
    """An array of N records on one line is N records, not one not_an_object reject; found
    after the first streamed batch, the file is read again whole and numbered by index."""
    monkeypatch.setattr(jsonl, "CHUNK", 64)
    good = [json.dumps({"q": f"谜{i}", "a": "底"}, ensure_ascii=False) for i in range(6)]
    array = '[{"q": "一口咬掉牛尾巴", "a": "告"}, {"q": "十张口", "a": "古"}, 7]'
    write_raw("a.jsonl", "\n".join([*good, array]) + "\n")
    result = run()
    assert result.exit_code == 0, result.output
    assert "9 read, 8 kept, 1 rejected" in " ".join(result.output.split())
    kept, rejects, manifest = outputs()
    assert "告" in kept["answer"].to_list() and "古" in kept["answer"].to_list()
    assert [(r["reason"], r["raw"], r["line"]) for r in rejects] == [("not_an_object", "7", 9)]
    assert kept["id"].n_unique() == 8 and rejects[0]["id"] not in kept["id"].to_list()
    assert manifest["inputs"][0]["numbering"] == "index"
    assert sorted(kept["line"].to_list()) == list(range(1, 9))


def test_files_holding_no_records_read_none_with_a_warning(write_raw, project):
    """`{"data": []}` and `{}` hold no records, as an empty file: zero read, and a word."""
    write_raw("a.jsonl", '{"q": "谜面", "a": "谜底"}\n')
    write_raw("b.json", '{"data": []}')
    write_raw("c.json", "{}")
    write_raw("d.csv", "")
    result = run()
    assert result.exit_code == 0, result.output
    assert "1 read, 1 kept, 0 rejected" in " ".join(result.output.split())
    _, rejects, manifest = outputs()
    assert rejects == []
    holds_none = [w.split(":")[0] for w in manifest["warnings"] if "holds no records" in w]
    assert holds_none == ["raw/b.json", "raw/c.json", "raw/d.csv"]


def test_empty_raw_folder_says_what_to_do(project):
    result = run()
    assert result.exit_code == 1
    assert "no input files in raw" in result.output


@pytest.mark.slow
def test_xiehouyu_all_records_accounted_for(xiehouyu_path, project):
    started = time.perf_counter()
    result = run(str(xiehouyu_path))
    seconds = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    kept, rejects, manifest = outputs()
    assert manifest["counts"] == {"in": 14032, "kept": 13820, "rejected": 212}
    assert manifest["reasons"] == {"split_note": 200, "unbalanced_brackets": 12}
    assert kept.height + len(rejects) == 14032
    assert kept["id"].n_unique() == 13820
    # line numbers point at each object's opening brace: 4 lines per record after `[`
    data = json.loads(xiehouyu_path.read_text(encoding="utf-8"))
    lines = sorted(kept["line"].to_list() + [r["line"] for r in rejects])
    assert lines == [2 + 4 * i for i in range(len(data))]
    split = next(r for r in rejects if "坐飞机撵（ni" in r["raw"])
    assert data[(split["line"] - 2) // 4] == {"riddle": "坐飞机撵（ni", "answer": "n追赶）西北风"}
    assert "钟馗（kui）打饱嗝" in kept["question"].to_list()
    assert seconds < 15  # about 1.5 s on a 2-core machine


_RECORDS = '[{"q": "谜面", "a": "谜底"}, 2]'  # a line holding an array of records
_ELEMENTS = {_RECORDS: ['{"q": "谜面", "a": "谜底"}', "2"]}
_LINES = st.one_of(
    st.builds(
        lambda q, a: json.dumps({"q": q, "a": a}, ensure_ascii=False),
        st.text(max_size=8),
        st.text(max_size=5),
    ),
    st.sampled_from(
        [
            '{"q": "谜面", "a": "谜底"}',
            '{"q": 1, "a": [2]}',
            "[1, 2]",  # an array of no record is one record (a reject)
            _RECORDS,
            '"s"',
            '{"broken',
            "{}",
            '{"q": "（", "a": "x"}',
            "   ",
            "",
            "null",
        ]
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINES, max_size=30))
def test_nothing_lost_property(lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        non_blank = [i for i, line in enumerate(lines, 1) if line.strip()]
        if not non_blank:
            return
        # _RECORDS holds two records: the file is then numbered by index.
        raws = [raw for ln in lines if ln.strip() for raw in _ELEMENTS.get(ln, [ln])]
        numbers = non_blank if len(raws) == len(non_blank) else list(range(1, len(raws) + 1))
        result = ingest(IngestConfig(sources=(path,), processed=Path(tmp) / "out"))
        kept = pl.read_parquet(Path(tmp) / "out" / "ingested.parquet")
        rejects = read_jsonl(Path(tmp) / "out" / "ingested.rejects.jsonl")
        assert result.n_in == len(raws) == kept.height + len(rejects)
        assert sorted(kept["line"].to_list() + [r["line"] for r in rejects]) == numbers
        assert all(r["raw"] == raws[numbers.index(r["line"])] for r in rejects)


def test_progress_reports_every_batch_and_no_bar_off_a_terminal(write_raw, project, monkeypatch):
    monkeypatch.setattr(process, "BATCH", 1000)  # records of a file read whole
    monkeypatch.setattr(jsonl, "CHUNK", 20_000)  # bytes of a streamed JSONL file
    write_raw("a.csv", "q,a\n" + "".join(f"谜{i},底\n" for i in range(2500)))
    write_raw("b.jsonl", "".join(f'{{"q": "谜{i}", "a": "底"}}\n' for i in range(2500)))
    calls = []
    ingest(IngestConfig(), progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(calls) >= 6  # per batch of each file, in order
    assert calls[-1] == (5000, 5000)
    with progress_bar(Console(file=io.StringIO())) as callback:
        assert callback is None  # not a terminal: no bar


def test_progress_bar_draws_on_a_terminal_for_large_inputs():
    out = io.StringIO()
    with progress_bar(Console(file=out, force_terminal=True)) as callback:
        callback(10, 100)  # small input: no task
        callback(30_000, 60_000)
    assert "ingest" in out.getvalue()


def test_import_cli_does_not_import_training_libraries():
    code = (
        "import sys, curate.cli; bad = [m for m in ('torch', 'transformers', 'peft') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
