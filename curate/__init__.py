"""curate: riddle collections in, validated fine-tuning data and LoRA adapters out.

The public API is one function per stage. They are imported lazily so that
`import curate` stays cheap and never pulls in torch.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "ingest": "curate.ingest",
    "dedupe": "curate.dedupe",
    "export": "curate.export",
    "validate": "curate.validate",
    "train": "curate.training",
    "evaluate": "curate.evaluate",
    "report": "curate.report",
    "run": "curate.pipeline",
}


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'curate' has no attribute {name!r}")
