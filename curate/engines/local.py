"""The local engine: a stage's batches in threads on this machine (polars, numpy and OpenCC
release the GIL). Stages call their own local code paths; this module only names the engine."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

NAME = "local"


def require() -> None:
    """Nothing to install."""


@contextlib.contextmanager
def session(address: str | None = None) -> Iterator[None]:
    yield
