"""curate.toml: defaults for every command; flag > config file > default; clear errors."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from curate.cli import main
from curate.cli.config import config_option, stage_config
from curate.stages.export import ExportConfig
from curate.stages.ingest import IngestConfig


@click.group()
@config_option
def cli() -> None:
    pass


@cli.command()
@click.option("--val-fraction", type=float, default=0.1)
@click.option("--name", default="x")
def show(val_fraction: float, name: str) -> None:
    click.echo(f"{val_fraction} {name}")


@cli.command()
@click.option("--convert", default=None)
@click.pass_context
def build(ctx: click.Context, convert: str | None) -> None:
    ingest = stage_config(IngestConfig, ctx, "ingest", convert=convert)
    export = stage_config(ExportConfig, ctx, "export")
    click.echo(repr((ingest.convert, ingest.sources, ingest.disabled_filters, export.seed)))


@cli.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option("--convert")
@click.option("--no-filter", "disabled_filters", multiple=True)
def ingest(sources, convert, disabled_filters) -> None:
    pass


@cli.command()
@click.option("--seed", type=int, default=0)
def export(seed: int) -> None:
    pass


def test_curate_toml_in_cwd_sets_defaults_and_flags_win(project):
    Path("curate.toml").write_text('[show]\nval-fraction = 0.25\nname = "toml"\n')
    assert CliRunner().invoke(cli, ["show"]).output == "0.25 toml\n"
    assert CliRunner().invoke(cli, ["show", "--name", "flag"]).output == "0.25 flag\n"


def test_no_config_file_means_built_in_defaults(project):
    assert CliRunner().invoke(cli, ["show"]).output == "0.1 x\n"


def test_config_option_reads_another_file(project):
    Path("other.toml").write_text("[show]\nval_fraction = 0.5\n")
    Path("curate.toml").write_text("[show]\nval_fraction = 0.25\n")
    assert CliRunner().invoke(cli, ["--config", "other.toml", "show"]).output == "0.5 x\n"


def test_config_mistakes_are_reported_with_the_fix(project):
    Path("curate.toml").write_text("[show]\nval-fractoin = 0.25\n")
    res = CliRunner().invoke(cli, ["show"])
    assert (
        res.exit_code == 2 and "no setting 'val-fractoin'; valid: name, val-fraction" in res.output
    )
    Path("curate.toml").write_text("[shwo]\nname = 1\n")
    assert "unknown table [shwo]" in CliRunner().invoke(cli, ["show"]).output
    Path("curate.toml").write_text("[show\n")
    assert "not valid TOML" in CliRunner().invoke(cli, ["show"]).output
    res = CliRunner().invoke(cli, ["--config", "missing.toml", "show"])
    assert res.exit_code == 2 and "missing.toml" in res.output


def test_stage_config_converts_table_values_with_the_commands_types(project):
    Path("curate.toml").write_text(
        '[ingest]\nsources = ["raw/a", "raw/b"]\nconvert = "none"\n'
        'no-filter = ["mojibake"]\n[export]\nseed = 7\n'
    )
    res = CliRunner().invoke(cli, ["build"])
    assert res.output.strip() == repr(("none", (Path("raw/a"), Path("raw/b")), ("mojibake",), 7))
    res = CliRunner().invoke(cli, ["build", "--convert", "s2t"])
    assert res.output.startswith("('s2t',")


def test_the_real_cli_accepts_a_config_for_its_commands(project):
    Path("curate.toml").write_text("[report]\ncard = false\n")
    res = CliRunner().invoke(main, ["report"])
    assert res.exit_code == 1 and "run `curate ingest" in res.output  # reached the command


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[ingest]\nprocessed = 3", "[ingest] processed must be a string, not int 3"),
        ("[dedupe]\nngram = {a=1}", "[dedupe] ngram must be an integer, not a table"),
        (
            "[ingest]\nmax-question-chars = 1e400",
            "max-question-chars must be an integer, not float",
        ),
        ('[export]\nuser-template = ["a"]', "user-template must be a string, not list"),
        ('[export]\nuser-template = "riddle"', "'riddle' has no {question}"),
        ('[run]\nuser-template = "{category}"', "has no {question}"),
        ("[ingest]\nmax-question-chars = true", "max-question-chars must be an integer, not bool"),
        ("[export]\nseed = 1.5", "[export] seed must be an integer, not float 1.5"),
        ("[export]\nshard-size = 2.9", "[export] shard-size must be an integer, not float 2.9"),
        ("[export]\nval-fraction = nan", "val-fraction must be a finite number"),
        ("[export]\nval-fraction = 1.5", "--val-fraction must be in [0, 1)"),
        ("[ingest]\nmax-answer-chars = 0", "must be at least 1"),
        ("[dedupe]\nnum-perm = 4096", "num-perm: 4096 is not in the range 16<=x<=1024"),
        ('[export]\nformat = "xml"', "[export] format: 'xml' is not one of"),
        ('[run]\nreport = "no"', "[run] report must be true or false"),
    ],
)
def test_config_values_are_checked_against_their_types(project, toml, expected):
    Path("curate.toml").write_text(toml + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 2, result.output
    assert "curate.toml: [" in result.output and expected in result.output
    assert "Traceback" not in result.output


def test_a_single_value_for_a_repeatable_setting_is_one_item(project):
    Path("curate.toml").write_text('[ingest]\nno-filter = "mojibake"\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["build"])
    assert res.exit_code == 0, res.output
    assert "('mojibake',)" in res.output


def test_flags_are_checked_too(project):
    for args, expected in [
        (["export", "--seed", "1.5"], "'1.5' is not a valid integer"),
        (["export", "--user-template", "riddle"], "has no {question}"),
        (["ingest", "--max-question-chars", "true"], "'true' is not a valid integer"),
        (["dedupe", "--num-perm", "2"], "2 is not in the range 16<=x<=1024"),
    ]:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and expected in result.output, (args, result.output)
