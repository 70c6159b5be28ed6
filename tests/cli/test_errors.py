"""The error boundary: what each class of failure looks like to the user, and its exit code."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from curate.cli import main
from curate.errors import ConfigError, CurateError, InputError, InternalError
from curate.record import reject

RIDDLES = (
    '{"question": "什么门永远关不上？", "answer": "球门"}\n'
    '{"question": "什么床不能睡？", "answer": "牙床"}\n'
)


@pytest.fixture
def read_only():
    """read_only(folder): make a folder unwritable, for root too (chattr +i); undone after."""
    done = []

    def _make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            folder.chmod(0o555)
            done.append(lambda: folder.chmod(0o755))
        elif subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
            done.append(lambda: subprocess.run(["chattr", "-i", str(folder)], check=True))
        else:
            pytest.skip("running as root without chattr: cannot make a read-only folder")
        return folder

    yield _make
    for undo in done:
        undo()


@pytest.fixture
def boom(monkeypatch):
    """boom(exc): register `curate boom`, a command that raises exc."""

    def _register(exc: BaseException) -> None:
        @click.command()
        def boom_cmd() -> None:
            raise exc

        monkeypatch.setitem(main.commands, "boom", boom_cmd)

    return _register


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (CurateError("deduped.parquet is missing; run `curate dedupe`"), 1, "run `curate dedupe`"),
        (InputError("raw/a.csv: not valid UTF-8"), 1, "raw/a.csv: not valid UTF-8"),
        (ConfigError("--val-fraction must be in [0, 1)"), 2, "--val-fraction must be in"),
        (PermissionError(13, "Permission denied", "out/x.jsonl"), 1, "out/x.jsonl: permission"),
        (FileNotFoundError(2, "No such file or directory", "raw/gone.json"), 1, "raw/gone.json"),
    ],
)
def test_each_class_of_error_is_one_line_with_its_exit_code(boom, exc, code, text):
    boom(exc)
    result = invoke("boom")
    assert result.exit_code == code
    assert result.output.startswith("Error: ") and text in result.output
    assert "Traceback" not in result.output and "Usage:" not in result.output


def test_a_bug_is_reported_as_one_with_the_traceback_only_under_debug(boom):
    boom(InternalError("kept + rejected != in"))
    result = invoke("boom")
    assert result.exit_code == 1
    assert "internal error: InternalError: kept + rejected != in" in result.output
    assert "bug in curate" in result.output and "--debug" in result.output
    assert "Traceback" not in result.output
    boom(KeyError("qkey"))
    result = invoke("--debug", "boom")
    assert result.exit_code == 1 and "Traceback (most recent call last)" in result.output
    assert "internal error: KeyError" in result.output


def test_broken_invariants_raise_internal_error_not_assert():
    with pytest.raises(InternalError, match="not_a_reason"):
        reject("ingested", "not_a_reason", "", "a.json", 1, "{}")


def test_processed_that_is_a_file_is_a_usage_error_naming_it(write_raw, project):
    write_raw("a.jsonl", RIDDLES)
    Path("taken").write_text("a file", encoding="utf-8")
    for command in ("ingest", "dedupe", "export", "report", "run"):
        result = invoke(command, "--processed", "taken")
        assert result.exit_code == 2, (command, result.output)
        assert "'taken' is a file" in result.output


def test_read_only_processed_folder_is_an_error_naming_it(write_raw, project, read_only):
    write_raw("a.jsonl", RIDDLES)
    read_only(project / "locked")
    result = invoke("ingest", "--processed", "locked")
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "locked" in result.output
    assert "Traceback" not in result.output
    result = invoke("ingest", "--processed", "locked/sub")
    assert result.exit_code == 1 and "Error: locked/sub:" in result.output


def test_read_only_export_out_is_an_error_naming_it(write_raw, project, read_only):
    write_raw("a.jsonl", RIDDLES)
    assert invoke("ingest").exit_code == 0 and invoke("dedupe").exit_code == 0
    read_only(project / "shelf")
    result = invoke("export", "--out", "shelf")
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "shelf" in result.output
    assert "Traceback" not in result.output
    assert not list(Path("shelf").iterdir())


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--system-prompt", "谜语\udcff专家"),
        ("run", "--user-template", "\udce9{question}"),
        ("eval", "--system-prompt", "\udcff", "--endpoint", "http://127.0.0.1:9/v1"),
        ("train", "--backend", "siliconflow", "--dry-run", "--model", "\udcff"),
    ],
)
def test_text_flags_that_are_not_utf8_are_usage_errors_naming_the_flag(write_raw, project, args):
    # Bytes that are not UTF-8 on the command line (a GBK terminal) reach Python as lone
    # surrogates; they used to crash the manifest write as an internal error.
    write_raw("a.jsonl", RIDDLES)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    bad = next(i for i, a in enumerate(args) if any("\udc80" <= c <= "\udcff" for c in a))
    assert f"Invalid value for '{args[bad - 1]}'" in result.output
    assert "not valid UTF-8 (byte 0x" in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert not Path("processed/export").exists()
