"""curate.toml: defaults for every command; flag > config file > default; clear errors."""

from __future__ import annotations

from pathlib import Path

import click
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
