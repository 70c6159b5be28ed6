"""The command line as a whole: every command has help, is in the README, and errors read well."""

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
