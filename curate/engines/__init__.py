"""Engines: how a stage's batches are executed, never what they compute.

`local` runs them in threads on this machine; `ray` runs them as Ray Data tasks on a local
Ray or a cluster. Both run the same stage functions, so both write the same bytes. Two
engines are a closed set: a dict, no plugins.

>>> get(EngineConfig()).NAME
'local'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from curate.errors import ConfigError

ENGINES = {"local": "curate.engines.local", "ray": "curate.engines.ray"}


@dataclass(frozen=True)
class EngineConfig:
    engine: str = "local"
    # ray only: None starts a local Ray for the command; "auto" or "host:port" joins a cluster
    ray_address: str | None = None

    def check(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown --engine {self.engine!r}; choose from {', '.join(ENGINES)}")
        if self.ray_address is not None and self.engine != "ray":
            raise ConfigError("--ray-address needs --engine ray")


def get(config: EngineConfig | None) -> ModuleType:
    """The engine module (`local` or `ray`); ray says how to install it when it is missing."""
    config = config or EngineConfig()
    config.check()
    module = importlib.import_module(ENGINES[config.engine])
    module.require()
    return module
