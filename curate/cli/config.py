"""curate.toml: defaults for every command, given to click as its `default_map`.

One table per command; keys are the command's options (dashes or underscores).
Precedence: a flag on the command line > the config file > the built-in default.

    [run]
    val-fraction = 0.05
    [ingest]
    convert = "none"

`curate --config PATH CMD` reads PATH; without it, ./curate.toml is read when present.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from curate.errors import ConfigError
from curate.io import tomllib

CONFIG_NAME = "curate.toml"


def _table(path: Path, name: str, values: object, command: click.Command) -> dict:
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: [{name}] must be a table of settings")
    # A setting is named like its flag (no-filter) or its parameter (disabled_filters).
    names = {}
    for p in command.params:
        if p.name and p.name != "help" and not getattr(p, "hidden", False):
            for alias in (p.name, *(o.lstrip("-") for o in p.opts)):
                names[alias.replace("-", "_")] = p.name
    out = {}
    for key, value in values.items():
        if key.replace("-", "_") not in names:
            valid = ", ".join(sorted({n.replace("_", "-") for n in names.values()}))
            raise ConfigError(f"{path}: [{name}] has no setting {key!r}; valid: {valid}")
        out[names[key.replace("-", "_")]] = value
    return out


def load(path: str | Path | None, commands: dict[str, click.Command]) -> dict[str, dict]:
    """The default_map for the group: {command: {param: value}}; {} when there is no file."""
    if path is None:
        path = Path(CONFIG_NAME)
        if not path.is_file():
            return {}
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(commands))
    if unknown:
        raise ConfigError(
            f"{path}: unknown table [{unknown[0]}]; tables are named after "
            f"commands: {', '.join(sorted(commands))}"
        )
    return {name: _table(path, name, values, commands[name]) for name, values in data.items()}


def _apply(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    commands = getattr(ctx.command, "commands", {})
    try:
        loaded = load(value, commands)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    ctx.default_map = {**(ctx.default_map or {}), **loaded}


config_option = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    is_eager=True,
    expose_value=False,
    callback=_apply,
    help=f"Settings file with a [command] table per command  [default: ./{CONFIG_NAME}]",
)


def stage_config(cls: type, ctx: click.Context, command: str, **flags: object) -> object:
    """Build a stage's config for `curate run`: dataclass default < [command] table < flag.

    Table values are converted by the stage command's own option types (so paths become
    Paths, repeatable options tuples); flags left as None do not override anything.
    """
    root = ctx.find_root()
    table = (root.default_map or {}).get(command, {})
    cmd = getattr(root.command, "commands", {}).get(command)
    params = {p.name: p for p in cmd.params} if cmd else {}
    names = {f.name for f in dataclasses.fields(cls)}
    values = {
        k: params[k].type_cast_value(ctx, v) if k in params else v
        for k, v in table.items()
        if k in names
    }
    values.update({k: v for k, v in flags.items() if v is not None})
    return cls(**values)
