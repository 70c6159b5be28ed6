"""curate: riddle collections in, validated fine-tuning data and LoRA adapters out.

The public API is one function and one config per stage, re-exported from the packages
that hold them: `curate.ingest(curate.IngestConfig(...))`, `curate.dedupe(...)`,
`curate.export(...)`, `curate.validate(...)`, `curate.report(...)`, `curate.run(...)`,
`curate.train(...)`, `curate.evaluate(...)`. Names resolve on first use (PEP 562), so
`import curate` stays cheap and never pulls in torch.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "ingest": "curate.stages.ingest",
    "IngestConfig": "curate.stages.ingest",
    "dedupe": "curate.stages.dedupe",
    "DedupeConfig": "curate.stages.dedupe",
    "export": "curate.stages.export",
    "ExportConfig": "curate.stages.export",
    "validate": "curate.stages.validate",
    "ValidateConfig": "curate.stages.validate",
    "report": "curate.stages.report",
    "ReportConfig": "curate.stages.report",
    "run": "curate.stages.run",
    "RunConfig": "curate.stages.run",
    "train": "curate.training",
    "TrainConfig": "curate.training",
    "evaluate": "curate.evaluation",
    "EvalConfig": "curate.evaluation",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'curate' has no attribute {name!r}")
