"""`curate validate`: schema + ordering rules, with JSON paths and line numbers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from exportdata import tiny_tokenizer
from messagelines import GOOD, A, S, U, write_lines

from curate.cli import main
from curate.stages.validate import ValidateConfig, validate


def test_cli_lists_problems_then_fails(tmp_path):
    good = write_lines(tmp_path / "good.jsonl", [GOOD, GOOD])
    bad = write_lines(tmp_path / "bad.jsonl", [GOOD, {"messages": [U(), S(), A()]}])
    result = CliRunner().invoke(main, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: $.messages[1].role: a system message may only come first" in result.output
    assert "4 records in 2 file(s): 1 invalid, 1 problem(s)" in result.output
    assert "Error: 1 problem(s) found" in result.output
    # the listing comes before the error line, so the boundary did not swallow it
    assert result.output.index(f"{bad}:2:") < result.output.index("Error:")


def test_cli_passes_a_valid_file(tmp_path):
    good = write_lines(tmp_path / "good.jsonl", [GOOD])
    result = CliRunner().invoke(main, ["validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 records in 1 file(s): 0 invalid, 0 problem(s), 0 warning(s)" in result.output
    assert "chars/record: p50 12, p90 12, p99 12, max 12" in result.output


def test_tokenizer_warns_about_long_records(tmp_path):
    tok = tiny_tokenizer(tmp_path / "tok", ["猜谜什么东西越洗越脏？水"])
    path = write_lines(tmp_path / "d.jsonl", [GOOD, {"messages": [U("水"), A("水")]}])
    result = validate(ValidateConfig((path,), tokenizer=tok, max_tokens=30))
    assert result.ok
    # one token per character plus ChatML framing: line 1 has 43 tokens, line 2 has 23
    assert [(line, w) for _, line, w in result.warnings] == [(1, "43 tokens > --max-tokens 30")]
    assert result.lengths["tokens"] == {"p50": 23, "p90": 43, "p99": 43, "max": 43}
    assert result.lengths["over_max_tokens"] == 1
    cli = CliRunner().invoke(
        main, ["validate", str(path), "--tokenizer", str(tok), "--max-tokens", "30"]
    )
    assert cli.exit_code == 0  # long records are warnings, not errors
    assert f"{path}:1: warning: 43 tokens > --max-tokens 30" in cli.output


def test_a_json_array_is_said_once_not_per_line(tmp_path):
    # a newcomer's `curate validate file.json` on a JSON array: one line with the fix, not 301
    path = tmp_path / "riddles.json"
    path.write_text(json.dumps([GOOD] * 300, ensure_ascii=False, indent=1), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith(f"{path}:")]
    assert problems == [
        f"{path}: is a JSON array of 300 item(s), not JSONL (one JSON object per line); "
        f"convert it, e.g. `jq -c '.[]' {path} > {path.with_suffix('.jsonl')}`",
        f"{path}: warning: SiliconFlow accepts only .jsonl files",
    ]
    assert "malformed JSON" not in result.output
    assert "0 records in 1 file(s): 0 invalid, 1 problem(s), 1 warning(s)" in result.output


def test_a_lone_surrogate_fails_validation(tmp_path):
    line = json.dumps({"messages": [U("谜\ud800"), A()]})  # written as the escape \ud800
    path = write_lines(tmp_path / "s.jsonl", [GOOD, line])
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert (
        f"{path}:2: $.messages[0].content: lone surrogate \\ud800 at character 1 "
        "is not valid Unicode text"
    ) in result.output
    assert "2 records in 1 file(s): 1 invalid, 1 problem(s)" in result.output


def test_readme_example_output(tmp_path, monkeypatch):
    # the README's `curate validate bad.jsonl` block, line for line
    monkeypatch.chdir(tmp_path)
    write_lines(
        tmp_path / "bad.jsonl",
        [
            {"messages": [U("什么东西越洗越脏"), A("水")]},
            {"messages": [S("猜谜"), A("夹")]},
            {"messages": [U("谜面"), {"role": "bot", "content": "谜底"}], "id": "x"},
            '{"messages": [}',
        ],
    )
    result = CliRunner().invoke(main, ["validate", "bad.jsonl"])
    assert result.output.splitlines() == [
        "bad.jsonl:2: $.messages[1].role: expected 'user', got 'assistant' "
        "(user and assistant must alternate, starting with user)",
        "bad.jsonl:2: $.messages: needs at least one user message and one assistant reply",
        "bad.jsonl:3: $: extra key(s) 'id' not allowed (only ['messages'])",
        "bad.jsonl:3: $.messages[1].role: 'bot' is not one of ['system', 'user', 'assistant']",
        "bad.jsonl:4: malformed JSON: Expecting value (column 15)",
        "4 records in 1 file(s): 3 invalid, 5 problem(s), 0 warning(s)",
        "chars/record: p50 9, p90 9, p99 9, max 9",
        "Error: 5 problem(s) found; fix the lines listed above",
    ]


@pytest.mark.parametrize("command", ["validate", "export"])
def test_a_tokenizer_folder_that_is_not_there_is_named(project, tmp_path, command):
    # The hub's message was "Repo id must be in the form 'repo_name' or 'namespace/repo_name'".
    path = tmp_path / "line.jsonl"
    path.write_text(json.dumps(GOOD, ensure_ascii=False) + "\n", encoding="utf-8")
    missing = tmp_path / "models" / "qwen-tokenizer"
    args = [str(path)] if command == "validate" else []
    result = CliRunner().invoke(main, [command, *args, "--tokenizer", str(missing)])
    assert result.exit_code == 2, result.output
    assert f"--tokenizer {missing}: no such folder" in result.output


def test_a_riddle_pasted_into_both_splits_is_a_warning_naming_both_lines(tmp_path):
    # A hand-edited export: the riddle now leaks from train into validation.
    other = {"messages": [U("什么门永远关不上？"), A("球门")]}
    train = write_lines(tmp_path / "train-00000-of-00001.jsonl", [other, GOOD])
    pasted = {"messages": [S("猜谜"), U("什么东西越洗越脏?"), A("水。")]}  # punctuation apart
    val = write_lines(tmp_path / "validation-00000-of-00001.jsonl", [pasted])
    result = CliRunner().invoke(main, ["validate", str(train), str(val)])
    assert result.exit_code == 0, result.output
    assert f"{val}:1: warning: the same riddle as {train}:2" in result.output
    assert "3 records in 2 file(s): 0 invalid, 0 problem(s), 1 warning(s)" in result.output


def test_a_riddle_pasted_in_traditional_characters_is_the_same_riddle(tmp_path):
    # The README: "the same question and answer up to punctuation and script"; eval's
    # trained-on guard (riddle_hash) treats the two spellings as one riddle too.
    simplified = {"messages": [U("什么门永远关不上？"), A("球门")]}
    traditional = {"messages": [U("什麼門永遠關不上"), A("球門。")]}
    train = write_lines(tmp_path / "train.jsonl", [simplified])
    val = write_lines(tmp_path / "validation.jsonl", [traditional])
    result = CliRunner().invoke(main, ["validate", str(train), str(val)])
    assert result.exit_code == 0, result.output
    assert f"{val}:1: warning: the same riddle as {train}:1" in result.output
