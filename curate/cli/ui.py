"""`curate ui`: serve the local web app (curate/ui/)."""

from __future__ import annotations

from pathlib import Path

import click

from curate.cli.options import field_option, with_options
from curate.ui.config import LOOPBACK, UiConfig


@click.command()
@with_options(
    [
        field_option(UiConfig, "root", help="Folders can be picked under here; jobs run here."),
        field_option(UiConfig, "processed", help="Directory of stage outputs (under --root)."),
        field_option(UiConfig, "raw", help="Uploads go here (under --root)."),
        field_option(
            UiConfig, "host", help="Interface to bind; anything but loopback exposes your data."
        ),
        field_option(UiConfig, "port"),
        field_option(UiConfig, "max_upload_mb", help="Largest upload accepted."),
    ]
)
@click.option(
    "--open/--no-open",
    "open_browser",
    default=True,
    show_default=True,
    help="Open the app in the default browser.",
)
def ui(
    root: Path,
    processed: Path,
    raw: Path,
    host: str,
    port: int,
    max_upload_mb: int,
    open_browser: bool,
) -> None:
    """Open the local web app: upload, run, report, review, export, train, eval."""
    try:
        import uvicorn  # noqa: F401

        from curate.ui import serve
    except ImportError:
        raise click.ClickException(
            "the web app needs its extra: pip install 'curate[ui]'"
        ) from None
    if host not in LOOPBACK:
        click.secho(
            f"WARNING: binding {host}: anyone who can reach this machine on port {port} can "
            "read your data and start jobs. Use --host 127.0.0.1 unless you mean it.",
            fg="red",
            bold=True,
            err=True,
        )
    config = UiConfig(
        root=root, processed=processed, raw=raw, host=host, port=port, max_upload_mb=max_upload_mb
    )
    click.echo(f"curate ui: http://{host}:{port}/  (Ctrl+C to stop)")
    serve(config, open_browser=open_browser)
