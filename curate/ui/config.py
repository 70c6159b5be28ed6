"""How the app is served: root folder, stage folders, address, upload limit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curate.endpoint import SILICONFLOW_KEY_ENV

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class UiConfig:
    root: Path = Path(".")  # folders may be picked under here; jobs run here
    processed: Path = Path("processed")  # relative to root
    raw: Path = Path("raw")  # uploads go here; relative to root
    host: str = "127.0.0.1"
    port: int = 8765
    max_upload_mb: int = 200
    api_key_env: str = SILICONFLOW_KEY_ENV
