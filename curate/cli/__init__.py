"""The `curate` command line: a thin click layer over the library.

Each command builds a config, calls one library function and prints a summary. Errors are
turned into messages here, in one place (`CurateGroup.invoke`):

- CurateError: `Error: ...`, exit 1; a ConfigError (a bad flag or setting) exit 2, like
  click's own usage errors;
- OSError on a path (read-only folder, not a directory, permission denied, a file that
  vanished): `Error: PATH: what went wrong`, exit 1;
- anything else is a bug in curate: `Error: internal error ...`, exit 1, with the traceback
  only under `curate --debug`.
"""

from __future__ import annotations

import errno
import importlib
import traceback

import click

from curate import __version__
from curate.cli.config import config_option
from curate.errors import ConfigError, CurateError
from curate.memory import one_heap
from curate.redact import redacted_streams

DEBUG = "curate.debug"  # ctx.meta key set by --debug


class UsageMistake(click.ClickException):
    """`Error: ...` with exit code 2, without the usage text (the message says the fix)."""

    exit_code = 2


def os_error_message(exc: OSError) -> str:
    """The path first, then what happened: `processed/x.parquet: permission denied`."""
    what = (exc.strerror or str(exc)).lower()
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {what}" if paths else what


def bug_message(exc: BaseException, debug: bool) -> str:
    where = "" if debug else "; run `curate --debug ...` to see the traceback"
    return (
        f"internal error: {type(exc).__name__}: {exc}\n"
        f"This is a bug in curate, not in your input; please report it{where}."
    )


class CurateGroup(click.Group):
    def main(self, *args, **kwargs):
        """Run with stdout and stderr redacted: no registered secret is printed (curate.redact)."""
        with redacted_streams():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ConfigError as exc:
            raise UsageMistake(str(exc)) from None
        except CurateError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # `curate ... | head`: click exits quietly
                raise
            raise click.ClickException(os_error_message(exc)) from None
        except Exception as exc:
            debug = bool(ctx.meta.get(DEBUG))
            if debug:
                click.echo(traceback.format_exc(), err=True, nl=False)
            raise click.ClickException(bug_message(exc, debug)) from None


def _debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta[DEBUG] = value


@click.group(cls=CurateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="curate")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    callback=_debug,
    help="Show the traceback of an internal error (a bug to report).",
)
@config_option
def main() -> None:
    """Curate riddle datasets: ingest -> dedupe -> export -> train -> eval."""
    one_heap()  # the process is ours: one malloc arena keeps large runs' peak down


class LazyCommands(dict):
    """The group's commands, where some modules are imported on first use (get, [], values).

    The data commands' options come from the stage configs, whose packages import polars and
    opencc; `curate train` and `curate eval` must run on a GPU machine that has neither.
    """

    def __init__(self, lazy: dict[str, tuple[str, str]]) -> None:
        super().__init__(dict.fromkeys(lazy))
        self._lazy = dict(lazy)  # name -> (module, attribute)

    def __getitem__(self, name: str) -> click.Command:
        if name in self._lazy:
            module, attr = self._lazy.pop(name)
            super().__setitem__(name, getattr(importlib.import_module(module), attr))
        return super().__getitem__(name)

    def get(self, name: str, default=None):
        return self[name] if name in self else default  # noqa: SIM401 (this is get)

    def values(self):
        return [self[name] for name in self]

    def items(self):
        return [(name, self[name]) for name in self]


# The commands live in their own modules; the group only registers them.
main.commands = LazyCommands(
    {
        "ingest": ("curate.cli.data", "ingest"),
        "dedupe": ("curate.cli.dedupe", "dedupe"),
        "export": ("curate.cli.data", "export"),
        "validate": ("curate.cli.data", "validate"),
        "report": ("curate.cli.data", "report_cmd"),
        "run": ("curate.cli.run", "run_cmd"),
    }
)
from curate.cli import models, ui  # noqa: E402

for command in (
    models.train,
    models.demo_model,
    models.eval_,
    models.ask,
    ui.ui,
):
    main.add_command(command)
