"""The command line as a whole: every command has help, is in the README, and errors read well."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from curate.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(main.commands)


def test_the_pipeline_commands_exist():
    expected = {"ingest", "dedupe", "export", "validate", "train", "eval", "report", "run"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_is_documented(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert main.commands[name].help, f"`curate {name}` has no help text"
    for option in main.commands[name].params:
        if option.param_type_name == "option" and not option.hidden:
            assert option.help or option.is_flag or option.default is not None, option.name
    assert re.search(rf"`curate {name}\b", README), f"README has no example of `curate {name}`"


def test_missing_input_says_which_command_to_run_first(project):
    result = CliRunner().invoke(main, ["dedupe"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "curate ingest" in result.output
    assert "Traceback" not in result.output


def test_usage_mistakes_exit_2(project):
    result = CliRunner().invoke(main, ["export", "--format", "xml"])
    assert result.exit_code == 2


def test_the_readme_library_example_runs(write_raw, project):
    """The README's Python example uses today's import paths and works as written."""
    block = re.search(r"## Library\n.*?```python\n(.*?)```", README, re.S).group(1)
    write_raw("a.jsonl", '{"question": "什么门永远关不上？", "answer": "球门"}\n')
    exec(compile(block, "README.md", "exec"), {})
    assert (project / "processed" / "deduped.parquet").is_file()


def test_dedupe_says_which_review_decisions_it_read_and_where_they_go(write_raw, project):
    """A newcomer sees whether the overrides file was found, and where to review and override."""
    write_raw(
        "a.jsonl",
        '{"question": "什么门永远关不上？", "answer": "球门"}\n'
        '{"question": "什么门永远关不上？", "answer": "足球门"}\n',
    )
    runner = CliRunner()
    assert runner.invoke(main, ["ingest"]).exit_code == 0
    result = runner.invoke(main, ["dedupe"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # rich wraps lines at the terminal's width
    assert "review decision(s)" not in out  # no file yet: nothing read
    assert "merges in processed/deduped.clusters.md" in out
    assert "add a line to dedupe.overrides.jsonl" in out
    q = "什么门永远关不上？"
    line = {"a": q, "a_answer": "球门", "b": q, "b_answer": "足球门", "decision": "answer"}
    (project / "dedupe.overrides.jsonl").write_text(json.dumps(line), encoding="utf-8")
    result = runner.invoke(main, ["dedupe"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "read 1 review decision(s) from dedupe.overrides.jsonl" in out
    assert "0 conflicts kept for review" in out


def test_run_names_the_conflicts_file_and_the_next_steps(write_raw, project):
    write_raw(
        "a.jsonl",
        '{"question": "什么门永远关不上？", "answer": "球门"}\n'
        '{"question": "什么门永远关不上？", "answer": "足球门"}\n'
        '{"question": "什么东西越洗越脏？", "answer": "水"}\n',
    )
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # rich wraps lines at the terminal's width
    assert "1 conflict(s) to review" in out
    assert "processed/deduped.conflicts.jsonl; settle them in dedupe.overrides.jsonl" in out
    assert "curate validate processed/export/jsonl/*.jsonl" in out
    assert "curate train --backend siliconflow --data processed/export/jsonl --dry-run" in out
