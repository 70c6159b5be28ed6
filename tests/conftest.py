"""Shared fixtures: a temp project folder, raw-file factories, the real shared data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CURATE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A temp folder with raw/ and processed/, made the working directory."""
    (tmp_path / "raw").mkdir()
    (tmp_path / "processed").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SILICONFLOW_API_KEY", raising=False)
    return tmp_path


@pytest.fixture
def write_raw(project):
    """Write a raw file: write_raw("a.json", obj_or_text, encoding="utf-8") -> path."""

    def _write(name: str, content, encoding: str = "utf-8") -> Path:
        path = project / "raw" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not isinstance(content, (str, bytes)):
            content = json.dumps(content, ensure_ascii=False, indent=1)
        if isinstance(content, str):
            content = content.encode(encoding)
        path.write_bytes(content)
        return path

    return _write


@pytest.fixture(scope="session")
def xiehouyu_path() -> Path:
    path = SHARED_DATA / "xiehouyu.json"
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (set CURATE_SHARED_DATA)")
    return path


@pytest.fixture
def fake_api(monkeypatch):
    """A fake SiliconFlow / OpenAI-compatible server on 127.0.0.1 (tests/fake_siliconflow.py).

    Set `fake_api.reply = lambda model, messages: "..."` for canned answers; its key is
    `fake_api.key` and its base URL `fake_api.url`.
    """
    from fake_siliconflow import FakeSiliconFlow

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # a CI proxy must not see loopback
    with FakeSiliconFlow() as server:
        yield server
