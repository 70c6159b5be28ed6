"""The `curate` command line: a thin click layer over the library.

Each command builds a config, calls one library function and prints a summary. Library
errors (CurateError) become `Error: ...` with exit code 1 here, in one place.
"""

from __future__ import annotations

import click

from curate import __version__
from curate.cli.config import config_option
from curate.errors import CurateError
from curate.memory import one_heap


class CurateGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CurateError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=CurateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="curate")
@config_option
def main() -> None:
    """Curate riddle datasets: ingest -> dedupe -> export -> train -> eval."""
    one_heap()  # the process is ours: one malloc arena keeps large runs' peak down


# The commands live in their own modules; the group only registers them.
from curate.cli import data, models  # noqa: E402

for command in (
    data.ingest,
    data.dedupe,
    data.export,
    data.validate,
    data.report_cmd,
    data.run_cmd,
    models.train,
    models.eval_,
):
    main.add_command(command)
