"""curate.toml: defaults for every command, given to click as its `default_map`.

One table per command; keys are the command's options (dashes or underscores).
Precedence: a flag on the command line > the config file > the built-in default.

    [run]
    val-fraction = 0.05
    [ingest]
    convert = "none"

`curate --config PATH CMD` reads PATH; without it, ./curate.toml is read when present.
Every value is checked against its option's type and range (TOML's `true` is not an integer,
`1.5` is not a seed) and against the library's own checks, and a mistake names the file,
the table and the key: exit code 2, before any work.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import click

from curate.errors import ConfigError
from curate.files import tomllib

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
    params, ctx = {p.name: p for p in command.params}, click.Context(command)
    out = {}
    for key, value in values.items():
        if key.replace("-", "_") not in names:
            valid = ", ".join(sorted({n.replace("_", "-") for n in names.values()}))
            raise ConfigError(f"{path}: [{name}] has no setting {key!r}; valid: {valid}")
        param = params[names[key.replace("-", "_")]]
        out[param.name] = _checked(ctx, param, value, f"{path}: [{name}] {key}")
    check = _library_checks().get(name)
    if check is not None:
        try:
            check({k: params[k].type_cast_value(ctx, v) for k, v in out.items()})
        except ConfigError as exc:
            raise ConfigError(f"{path}: [{name}] {exc}") from None
    return out


def _expected(param: click.Parameter) -> tuple[tuple[type, ...], str]:
    """The TOML types a value of this option may have, and their name for a message."""
    kind = param.type
    if isinstance(kind, click.types.BoolParamType):
        return (bool,), "true or false"
    if isinstance(kind, click.types.IntParamType):
        return (int,), "an integer"
    if isinstance(kind, click.types.FloatParamType):
        return (int, float), "a number"
    return (str,), "a string"  # text, paths and choices


def _checked(ctx: click.Context, param: click.Parameter, value: object, where: str) -> object:
    """`value` if it has the option's type and passes its range/choice; else a ConfigError."""
    many = param.multiple or param.nargs == -1
    if many and not isinstance(value, list):
        value = [value]  # `no-filter = "mojibake"` means one item, not 8 letters
    types, what = _expected(param)
    for item in value if many else [value]:
        # bool is an int subclass in Python; TOML's `true` is not a number.
        if not isinstance(item, types) or (isinstance(item, bool) and bool not in types):
            shown = "a table" if isinstance(item, dict) else f"{type(item).__name__} {item!r}"
            raise ConfigError(f"{where} must be {what}{' (a list)' if many else ''}, not {shown}")
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"{where} must be a finite number, not {item!r}")
    try:
        param.type_cast_value(ctx, value)
    except click.BadParameter as exc:
        raise ConfigError(f"{where}: {exc.message}") from None
    return value


def _library_checks() -> dict[str, Callable[[dict], None]]:
    """The library's own checks of a stage's settings, per table: a template without
    {question} is caught in curate.toml, naming the file, not later as a flag."""
    from curate.stages.export import ExportConfig, check_config
    from curate.stages.ingest import IngestConfig

    def build(cls: type, values: dict) -> object:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def export(values: dict) -> None:
        check_config(build(ExportConfig, values))

    def ingest(values: dict) -> None:
        build(IngestConfig, values).check()

    return {"ingest": ingest, "export": export, "run": lambda v: (ingest(v), export(v))}


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
