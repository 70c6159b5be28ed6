"""The `curate` command line: a thin click layer over the library.

Each command builds a config, calls one library function and prints a summary. Library
errors (CurateError) become `Error: ...` with exit code 1 here, in one place.
"""

from __future__ import annotations

from pathlib import Path

import click

from curate import __version__
from curate.errors import CurateError

PROCESSED = click.option(
    "--processed", type=click.Path(path_type=Path), default=Path("processed"),
    show_default=True, help="Directory of stage outputs.",
)


class CurateGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CurateError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=CurateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="curate")
def main() -> None:
    """Curate riddle datasets: ingest -> dedupe -> export -> train -> eval."""


# -- commands end --
