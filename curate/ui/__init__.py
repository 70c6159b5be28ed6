"""`curate ui`: a local web app over the same library functions and commands as the CLI.

Pages: Data (upload or pick a folder, run ingest -> dedupe -> export -> report), Report
(numbers, plots, rejects paged and filtered), Review (dedupe clusters and conflicts; decisions
go to the overrides file), Export, Train (SiliconFlow hand-off, local LoRA) and Eval.
Long jobs are `curate` subprocesses, one at a time (jobs.py); quick reads call the library.
"""

from __future__ import annotations

from curate.ui.config import LOOPBACK, UiConfig

__all__ = ["LOOPBACK", "UiConfig", "create_app", "serve"]


def create_app(config: UiConfig):
    """The Starlette application (imported here so `import curate.ui` stays light)."""
    from curate.ui.app import create_app as _create

    return _create(config)


def serve(config: UiConfig, open_browser: bool = False) -> None:
    """Run the app with uvicorn until interrupted."""
    import threading
    import webbrowser

    import uvicorn

    url = f"http://{config.host}:{config.port}/"
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="warning")
