"""Click options built from the `<Verb>Config` dataclasses, so that every default lives there.

`field_option(ExportConfig, "seed", help=...)` is `--seed` with ExportConfig's default, its
type (and whether it repeats) read from the field's annotation; `help` and anything else
click accepts are passed on. Only help text, choices and ranges are written here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from pathlib import Path

import click

PATH = click.Path(path_type=Path)
# A processed directory: an existing file there is a usage mistake, found before any work.
DIR = click.Path(path_type=Path, file_okay=False)


class Text(click.ParamType):
    """Text that must be valid Unicode: bytes that are not UTF-8 on the command line (or in an
    environment variable) reach Python as lone surrogates, which no file can hold."""

    name = "text"

    def convert(self, value, param, ctx):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = value[exc.start].encode("utf-8", "surrogateescape")
            self.fail(
                f"not valid UTF-8 (byte 0x{bad.hex()} at character {exc.start}); "
                "pass it as UTF-8 text (check your terminal's encoding)",
                param,
                ctx,
            )
        except AttributeError:  # not a str: a default or a value from curate.toml
            pass
        return value


TEXT = Text()


class FieldOption(click.Option):
    """An option whose default is a config field's; `config_field` says which (for tests)."""

    def __init__(self, *args, config_field: tuple[type, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.config_field = config_field


def field_default(cls: type, name: str) -> object:
    """The default of a dataclass field (its factory called), or None when it has none."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            return None
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def _inferred(hint: object) -> dict:
    """click attributes for a field annotation: int, float, str, bool, Path, X | None, tuple."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(hint) is tuple:
        return {"multiple": True, **_inferred(typing.get_args(hint)[0])}
    if hint is bool:
        return {"is_flag": True}
    if hint is Path:
        return {"type": PATH}
    if hint is str:
        return {"type": TEXT}
    return {"type": hint}


def _shown(value: object) -> str | None:
    """The default as --help shows it; None for "no default" (None, an empty tuple, off)."""
    if value is None or value is False or value == ():
        return None
    return ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def field_option(
    cls: type, name: str, *decls: str, unset: bool = False, **attrs: object
) -> Callable:
    """`--name` for field `name` of `cls`, with the field's default and type.

    unset=True: the option is None unless given (so that settings below the flag still
    apply, as `curate run` needs) and its help shows the field's default.
    """
    default = field_default(cls, name)
    kind = {**_inferred(typing.get_type_hints(cls)[name]), **attrs}
    flag = f"--{name.replace('_', '-')}"
    if kind.get("is_flag") and default is True and not decls:
        decls, kind["is_flag"] = (f"{flag}/--no-{flag[2:]}",), None
    decls = decls or (flag,)
    kind["default"] = None if unset else default
    shown = _shown(default)
    if unset and shown is not None and kind.get("help"):
        # click would show a string default in parentheses: write it like its own.
        kind["help"] = f"{kind['help']}  [default: {shown}]"
    elif not unset and shown is not None:
        kind.setdefault("show_default", True)
    return click.option(*decls, cls=FieldOption, config_field=(cls, name), **kind)


def with_options(options: list[Callable]) -> Callable:
    """Apply option decorators in the order listed (top to bottom in --help)."""

    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def processed_option(cls: type, **attrs: object) -> Callable:
    """--processed: the directory of stage outputs, with `cls`'s default."""
    attrs.setdefault("help", "Directory of stage outputs.")
    return field_option(cls, "processed", type=DIR, **attrs)


def engine_options() -> list[Callable]:
    """--engine and --ray-address (EngineConfig's fields), for the data stages and run."""
    from curate.engines import ENGINES, EngineConfig

    return [
        field_option(
            EngineConfig,
            "engine",
            type=click.Choice(tuple(ENGINES)),
            help="Where the stage's batches run: this machine, or Ray (pip install -e '.[ray]').",
        ),
        field_option(
            EngineConfig,
            "ray_address",
            help="Ray cluster to join (auto, host:port)  [default: start a local Ray]",
        ),
    ]
