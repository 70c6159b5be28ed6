"""curate: riddle collections in, validated fine-tuning data and LoRA adapters out.

The public API is one function per stage: `curate.ingest(IngestConfig(...))`,
`curate.dedupe(...)`, `curate.export(...)`, `curate.validate(...)`, `curate.train(...)`,
`curate.evaluate(...)`, `curate.report(...)`, `curate.run(...)`. They load lazily, so
`import curate` stays cheap and never pulls in torch.
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

# Stages whose module and function share one word (ingest.py holds ingest()).
_STAGE_MODULES = ("ingest", "dedupe", "export", "validate", "evaluate", "report")
_FUNCTIONS = {"train": "curate.training", "run": "curate.pipeline"}


class _StageModule(types.ModuleType):
    """A stage module that can be called as its stage function."""

    def __call__(self, *args, **kwargs):
        return getattr(self, self.__name__.rpartition(".")[2])(*args, **kwargs)


class _Package(types.ModuleType):
    # Importing curate.ingest makes Python set `curate.ingest` to the module, hiding the
    # function of the same name; making the module callable keeps both uses working.
    def __setattr__(self, name: str, value: object) -> None:
        if name in _STAGE_MODULES and isinstance(value, types.ModuleType):
            value.__class__ = _StageModule
        super().__setattr__(name, value)


def __getattr__(name: str):
    if name in _STAGE_MODULES:
        return importlib.import_module(f"curate.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'curate' has no attribute {name!r}")


sys.modules[__name__].__class__ = _Package
