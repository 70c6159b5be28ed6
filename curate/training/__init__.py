"""`curate train`: one interface, two backends picked by name from a dict.

Backends are imported only when used, so `import curate.training` never pulls in torch.
Each backend module has `run(config: TrainConfig) -> TrainResult` and receives a resolved config.
"""

from __future__ import annotations

import importlib

from curate.errors import ConfigError
from curate.training.base import (
    BACKENDS,
    TrainConfig,
    TrainResult,
    check_versions,
    missing_extra,
    resolve,
)

__all__ = ["BACKENDS", "TrainConfig", "TrainResult", "train"]


def train(config: TrainConfig) -> TrainResult:
    """Resolve presets and defaults, then hand the config to its backend."""
    if config.backend not in BACKENDS:
        raise ConfigError(f"unknown backend {config.backend!r}; use one of {sorted(BACKENDS)}")
    resolved = resolve(config)
    if config.backend == "local":
        check_versions()  # before transformers is imported: an old one fails clearly
    try:
        backend = importlib.import_module(BACKENDS[config.backend])
    except ImportError as exc:
        error = missing_extra(exc)
        if error is None:
            raise
        raise error from None
    return backend.run(resolved)
