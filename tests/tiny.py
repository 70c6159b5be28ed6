"""The tiny model and riddles the training and eval tests use: `curate.training.demo`.

Shared by the training and eval tests (`from tiny import build_tiny_model, RIDDLES`).
"""

from curate.training.demo import (  # noqa: F401 (re-exported for the tests)
    ARCHS,
    CHAT_TEMPLATE,
    RIDDLES,
    build_tiny_model,
    build_tokenizer,
    riddle_messages,
    write_export,
    write_manifest,
)
