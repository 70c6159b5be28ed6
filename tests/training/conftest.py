"""Training fixtures: tiny models per architecture (built once), an export of riddles."""

from __future__ import annotations

import pytest
from tiny import RIDDLES, build_tiny_model, riddle_messages, write_export


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One thread: for models this small, thread hand-offs cost more than they save."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """tiny_model("qwen2" | "llama") -> folder with a random model and its tokenizer."""
    built = {}

    def _get(arch: str = "qwen2"):
        if arch not in built:
            built[arch] = build_tiny_model(tmp_path_factory.mktemp(f"tiny-{arch}"), arch)
        return built[arch]

    return _get


@pytest.fixture
def riddle_export(project):
    """The 16 riddles as an export folder (train: all 16; validation: 4 of them)."""
    rows = riddle_messages(RIDDLES)
    return write_export(project / "processed" / "export" / "jsonl", rows, rows[:4])
