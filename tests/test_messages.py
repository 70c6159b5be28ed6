"""curate.messages: the one reader of messages JSONL, and its four consumers agreeing on it."""

from __future__ import annotations

import doctest
import gzip
import json
import re
from pathlib import Path

import pytest
from exportdata import record
from messagelines import GOOD, A, S, U, msg, write_lines

import curate.messages
from curate.errors import InputError
from curate.messages import (
    message_problems,
    read_conversations,
    scan_file,
    schema_path,
    validator,
)

REPO = Path(__file__).resolve().parents[1]


def test_doctests():
    assert doctest.testmod(curate.messages).failed == 0


@pytest.mark.parametrize(
    "obj",
    [GOOD, {"messages": [U(), A()]}, {"messages": [U(), A(), U(), A()]}],
)
def test_valid_lines_have_no_problems(obj):
    assert message_problems(obj) == []


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"messages": [U(), S(), A()]}, "$.messages[1].role: a system message may only come first"),
        ({"messages": [U(), U(), A()]}, "$.messages[1].role: expected 'assistant', got 'user'"),
        ({"messages": [A(), U(), A()]}, "$.messages[0].role: expected 'user', got 'assistant'"),
        ({"messages": [S(), U(), A(), U()]}, "$.messages[3].role: the last message must be"),
        ({"messages": [S(), U()]}, "$.messages: needs at least one user message and one assist"),
        ({"messages": [U()]}, "$.messages: has 1 message(s)"),
        ({"messages": []}, "$.messages: has 0 message(s)"),
        ({**GOOD, "id": "x"}, "$: extra key(s) 'id' not allowed"),
        ({"messages": [U(), {**A(), "weight": 1}]}, "$.messages[1]: extra key(s) 'weight'"),
        ({"messages": [U(""), A()]}, "$.messages[0].content: empty text"),
        ({"messages": [U(), A(" \n")]}, "$.messages[1].content: empty text"),
        ({"messages": [U(), msg("bot", "a")]}, "$.messages[1].role: 'bot' is not one of"),
        ({"messages": [U(), {"role": "assistant"}]}, "$.messages[1]: 'content' is a required"),
        ({"messages": [U(), {"role": "assistant", "content": 3}]}, "$.messages[1].content: 3 is"),
        ({"conversations": []}, "$: 'messages' is a required property"),
        ([GOOD], "$: [{"),
        (
            {"messages": [U("a\ud800b"), A()]},
            "$.messages[0].content: lone surrogate \\ud800 at character 1 is not valid Unicode",
        ),
        ({"messages": [U(), msg("\udc00", "a")]}, "$.messages[1].role: '\\udc00' is not one of"),
    ],
)
def test_each_rule_reports_its_json_path(obj, expected):
    problems = message_problems(obj)
    assert any(p.startswith(expected) for p in problems), problems
    assert all(p.encode("utf-8") for p in problems)  # every problem can be printed


def test_an_empty_content_is_reported_once():
    assert len(message_problems({"messages": [U(), A("")]})) == 1


OK = json.dumps(GOOD, ensure_ascii=False)
# One raw line each (str or bytes), and the problem the reader reports for it ("" = valid).
LINES = [
    (OK, ""),
    (OK + "\r", ""),  # CRLF line ending
    (OK + "   ", ""),
    (json.dumps(GOOD), ""),  # \u escapes for the Chinese text
    (OK.replace("水", "水\u2028"), ""),  # a line separator that str.splitlines would split on
    ('{"messages": [', "malformed JSON: Expecting value (column 15)"),
    (OK[:-1], "malformed JSON: Expecting ',' delimiter"),
    (OK.replace("水", "水\t"), "malformed JSON: Invalid control character at"),
    (OK + OK, "malformed JSON: Extra data (column"),
    ('{"messages": [], "messages": []}', "malformed JSON: duplicate key(s) 'messages'"),
    (b'{"messages": [{"role": "user", "content": "\xff"}]}', "not valid UTF-8 (byte 0xff"),
    (OK.replace('"水"', "NaN"), "malformed JSON: NaN is not JSON"),
    (OK.replace('"水"', "-Infinity"), "malformed JSON: -Infinity is not JSON"),
    (OK.replace("水", "\\ud800"), "$.messages[2].content: lone surrogate \\ud800 at character 0"),
    ('"just text"', "$: 'just text' is not of type 'object'"),
]


@pytest.mark.parametrize(("line", "expected"), LINES)
def test_lines_read_or_rejected_with_line_numbers(tmp_path, line, expected):
    path = write_lines(tmp_path / "d.jsonl", [GOOD, line])
    scan = scan_file(path)
    assert scan.records == 2
    if not expected:
        assert scan.problems == [] and [c.line for c in scan.valid] == [1, 2]
        return
    assert [c.line for c in scan.valid] == [1]
    assert [line for line, _ in scan.problems] == [2]
    assert scan.problems[0][1].startswith(expected), scan.problems


def test_blank_lines_are_skipped_with_a_warning(tmp_path):
    scan = scan_file(write_lines(tmp_path / "d.jsonl", [GOOD, "", "  ", GOOD]))
    assert scan.problems == [] and [c.line for c in scan.valid] == [1, 4]
    assert scan.warnings == [(2, "blank line (skipped)"), (3, "blank line (skipped)")]


def test_bom_and_empty_file_are_problems(tmp_path):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n")
    assert scan_file(bom).problems == [
        (1, "starts with a UTF-8 byte order mark (BOM); save without BOM")
    ]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert scan_file(empty).problems == [(0, "no records (empty file)")]
    blank = write_lines(tmp_path / "blank.jsonl", ["", ""])
    assert scan_file(blank).problems == [(0, "no records (empty file)")]


@pytest.mark.parametrize(
    ("encode", "said"),
    [
        (lambda t: t.encode("utf-16"), "is UTF-16 (byte order mark 0xfffe), not UTF-8"),
        (lambda t: t.encode("utf-32"), "is UTF-32 (byte order mark 0xfffe), not UTF-8"),
        (lambda t: gzip.compress(t.encode()), "is gzip-compressed; decompress it first"),
    ],
)
def test_a_file_that_is_not_utf8_text_is_one_problem_with_the_fix(tmp_path, encode, said):
    # A Windows editor's "Unicode" save used to give one "not valid UTF-8" per line.
    path = tmp_path / "saved.jsonl"
    path.write_bytes(
        encode("".join(json.dumps(GOOD, ensure_ascii=False) + "\n" for _ in range(50)))
    )
    ((line, problem),) = scan_file(path).problems
    assert line == 0 and problem.startswith(said)
    assert "e.g. `" in problem
    with pytest.raises(InputError, match="1 problem"):
        read_conversations([path])


def test_one_file_with_many_kinds_of_problem(tmp_path):
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [
            GOOD,
            '{"messages": [',  # malformed JSON
            {"messages": [U(), msg("bot", "a")]},
            "",  # blank line: a warning, not a problem
            '{"messages": [{"role": "user", "content": "q"}], "messages": []}',
            b'{"messages": [{"role": "user", "content": "\xff"}]}',  # not UTF-8
            {"messages": [U(), A(), U()]},
            GOOD,
        ],
    )
    problems = scan_file(path).problems
    assert [line for line, _ in problems] == [2, 3, 5, 6, 7]
    assert problems[0][1].startswith("malformed JSON")
    assert problems[1][1].startswith("$.messages[1].role")
    assert "duplicate key(s) 'messages'" in problems[2][1]
    assert "not valid UTF-8 (byte 0xff" in problems[3][1]
    assert problems[4][1].startswith("$.messages[2].role: the last message")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (json.dumps([GOOD] * 3, indent=2), "is a JSON array of 3 item(s), not JSONL"),
        (json.dumps([GOOD, GOOD]), "is a JSON array of 2 item(s), not JSONL"),
        ("[\n" + json.dumps(GOOD) + ",\n", "is a JSON array, not JSONL"),  # cut short
        (json.dumps(GOOD, indent=2), "is one JSON object spread over several lines, not JSONL"),
    ],
)
def test_a_json_document_is_one_problem_with_the_fix(tmp_path, text, expected):
    path = tmp_path / "riddles.json"
    path.write_text(text, encoding="utf-8")
    scan = scan_file(path)
    assert len(scan.problems) == 1 and scan.valid == [] and scan.records == 0
    line, problem = scan.problems[0]
    assert line == 0 and problem.startswith(expected)
    assert "e.g. `jq -c " in problem and str(path.with_suffix(".jsonl")) in problem


def test_a_jsonl_file_starting_with_a_bad_line_is_still_read_line_by_line(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", ['{"messages": [', GOOD, "[1]"])
    assert [line for line, _ in scan_file(path).problems] == [1, 3]


def test_conversation_parts(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [GOOD, {"messages": [U("1"), A("2"), U("3"), A("4")]}])
    first, second = read_conversations([path])
    assert (first.where, first.system, first.pairs) == (
        f"{path}:1",
        "猜谜",
        [("什么东西越洗越脏？", "水")],
    )
    assert (second.system, second.pairs) == (None, [("1", "2"), ("3", "4")])


def test_read_conversations_names_file_and_line_and_caps_the_list(tmp_path):
    bad = write_lines(tmp_path / "bad.jsonl", [GOOD] + ['{"messages": ['] * 7)
    with pytest.raises(InputError) as err:
        read_conversations([bad], "the train data", "rerun it")
    text = str(err.value)
    assert text.startswith(f"7 problem(s) in the train data: {bad}:2: malformed JSON")
    assert f"{bad}:6:" in text and f"{bad}:7:" not in text
    assert text.endswith("; and 2 more; rerun it")


def test_schema_comes_from_the_repo_schemas_folder():
    # one source of truth: curate/schemas is a link to (or, installed, a copy of) schemas/
    assert schema_path("messages.schema.json").resolve() == REPO / "schemas/messages.schema.json"
    assert validator().schema["$schema"].endswith("2020-12/schema")


def test_canonical_records_match_the_record_schema():
    row = record("什么東西越洗越髒?", "水", category="脑筋急转弯")
    assert list(validator("record.schema.json").iter_errors(row)) == []
    bad = {**row, "question": "", "extra": 1}
    assert len(list(validator("record.schema.json").iter_errors(bad))) == 2


# -- the consumers agree: a line one of them accepts, every reader of that shape accepts ------

MULTI_TURN = {"messages": [S(), U("1"), A("2"), U("3"), A("4")]}
# Lines the old readers disagreed on (training took a wrong order, eval took extra keys,
# the SiliconFlow upload crashed on a lone surrogate), and lines all of them take.
TRICKY = [
    GOOD,
    {"messages": [U("什么床不能睡？"), A("牙床")]},
    MULTI_TURN,
    OK + "\r",
    OK.replace("水", "水\u2028"),
    {"messages": [U(), A(), U()]},
    {"messages": [A(), U(), A()]},
    {"messages": [S(), S(), U(), A()]},
    {"messages": [U(), msg("bot", "x"), A()]},
    {"messages": [U(""), A()]},
    {"messages": [U(), A(" ")]},
    {**GOOD, "id": "x"},
    {"messages": [U(), {**A(), "weight": 0}]},
    {"messages": [U(), {"role": "assistant", "content": 3}]},
    '{"messages": [{"role": "user", "content": "q"}], "messages": []}',
    '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": NaN}]}',
    OK.replace("水", "\\ud800"),
    OK.replace("水", "\\udfff\\ud800"),
    b"\xef\xbb\xbf" + OK.encode(),
    OK.encode().replace("\u6c34".encode(), b"\xb0"),
    OK[:-1],
    "[" + OK + "]",
]


def _verdicts(folder: Path, line) -> dict[str, str]:
    """'ok' or the error text of each consumer reading a file whose first line is `line`."""
    from curate.evaluation import load_riddles
    from curate.stages.validate import ValidateConfig, validate
    from curate.training import outputs, siliconflow

    folder.mkdir()
    path = write_lines(folder / "train-00000-of-00001.jsonl", [line, GOOD])
    readers = {
        "training": lambda: outputs.read_export(folder),
        "siliconflow": lambda: siliconflow.read_split(folder, "train"),
        "eval": lambda: load_riddles(path, "validation"),
    }
    verdicts = {}
    result = validate(ValidateConfig((path,)))
    verdicts["validate"] = "ok" if result.ok else result.problems[0][2]
    first = path.read_bytes().split(b"\n")[0]
    obj, _ = curate.messages.parse_line(first.decode("utf-8", "surrogateescape"))
    if isinstance(obj, dict) and set(obj) == {"messages"}:  # the only shape export writes
        verdicts["export"] = "; ".join(curate.messages.message_problems(obj)) or "ok"
    for name, read in readers.items():
        try:
            read()
            verdicts[name] = "ok"
        except InputError as exc:
            verdicts[name] = str(exc)
    return verdicts


@pytest.mark.parametrize("line", TRICKY, ids=range(len(TRICKY)))
def test_every_consumer_agrees_on_a_line(tmp_path, line):
    verdicts = _verdicts(tmp_path / "data", line)
    path = tmp_path / "data" / "train-00000-of-00001.jsonl"
    if line is MULTI_TURN:  # eval's own need on top: one riddle per line
        assert verdicts.pop("eval").startswith(f"{path}:1: has 2 user/assistant pairs")
    accepted = {name for name, verdict in verdicts.items() if verdict == "ok"}
    assert accepted in (set(), set(verdicts)), verdicts
    if not accepted:  # each reader's error names the file and the line
        for name, verdict in verdicts.items():
            if name not in ("validate", "export"):
                assert f"{path}:1: " in verdict or f"{path}: " in verdict, (name, verdict)


def test_siliconflow_dry_run_on_a_lone_surrogate_is_an_error_not_a_crash(project):
    from click.testing import CliRunner

    from curate.cli import main

    export = project / "export"
    export.mkdir()
    write_lines(export / "train-00000-of-00001.jsonl", [GOOD, OK.replace("水", "\\ud800")])
    args = ["train", "--backend", "siliconflow", "--data", str(export), "--dry-run"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit, result.output
    assert "train-00000-of-00001.jsonl:2: $.messages[2].content: lone surrogate \\ud800" in (
        result.output
    )
    assert not (project / "run").exists() and not list(project.rglob("siliconflow-train.jsonl"))


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt", "parquet"])
def test_a_file_of_an_export_in_another_format_says_which_format_reads(project, fmt):
    # An alpaca file was told to become JSONL with jq (still not messages); a parquet one
    # got one "not valid UTF-8" per 8 KiB.
    from exportdata import records, write_deduped

    from curate.stages.export import ExportConfig, export

    write_deduped(
        project / "processed", records([(f"第{i}个谜语？", f"谜底{i}") for i in range(30)])
    )
    out = export(ExportConfig(processed=project / "processed", format=fmt)).out
    ((line, problem),) = scan_file(next(out.glob("train-*"))).problems
    assert line == 0
    assert ("not messages JSONL" if fmt != "parquet" else "is a Parquet file") in problem
    assert problem.endswith("`curate export --format jsonl` (the default) writes messages JSONL")


@pytest.mark.parametrize("text", [json.dumps([GOOD, GOOD]), json.dumps(GOOD, indent=2)])
def test_the_fix_for_a_json_document_named_jsonl_does_not_overwrite_it(tmp_path, text):
    # `jq ... a.jsonl > a.jsonl`: the shell empties a.jsonl before jq reads it
    path = tmp_path / "riddles.jsonl"
    path.write_text(text, encoding="utf-8")
    [(_, problem)] = scan_file(path).problems
    target = re.search(r"> (\S+)`", problem).group(1)
    assert Path(target) != path and Path(target).suffix == ".jsonl"
