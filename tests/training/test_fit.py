"""The memory preflight: Qwen2.5-7B-Instruct's shape (config only, meta device) on an 80 GB GPU."""

from __future__ import annotations

import pytest

from curate.errors import CurateError
from curate.training import fit

GIB = 1 << 30
H100 = 80 * 10**9  # bytes an 80 GB card holds


@pytest.fixture(scope="module")
def qwen7b_config():
    from transformers import Qwen2Config

    # Qwen/Qwen2.5-7B-Instruct's config.json (the dimensions that matter here)
    return Qwen2Config(
        vocab_size=152064,
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        tie_word_embeddings=False,
    )


@pytest.fixture(scope="module")
def shape(qwen7b_config):
    return fit.shape_of(qwen7b_config, None, rank=8)


def test_shape_counts_parameters_and_lora_without_weights(shape):
    assert 7.6e9 < shape.params < 7.62e9  # 7.62B on the model card, 7.61B counted
    assert shape.lora_params == 20_185_088  # r=8 on q,k,v,o,gate,up,down of 28 layers
    assert (shape.kv_dim, shape.layers, shape.vocab) == (512, 28, 152064)


def test_short_riddles_fit_and_long_batches_name_the_flag(shape):
    assert fit.advice(shape, 8, 1, 128, checkpointing=True, available=H100) is None
    assert fit.advice(shape, 8, 1, 128, checkpointing=False, available=H100) is None
    # the standard preset's worst case: 8 conversations of 4096 tokens
    without = fit.advice(shape, 8, 1, 4096, checkpointing=False, available=H100)
    assert without and "8 x 4096 tokens" in without and "75 GiB is free" in without
    with_ckpt = fit.advice(shape, 8, 1, 4096, checkpointing=True, available=H100)
    assert "--batch-size" in with_ckpt and "--grad-accum" in with_ckpt
    batch = int(with_ckpt.split("--batch-size ")[1].split()[0])
    accum = int(with_ckpt.split("--grad-accum ")[1].split()[0])
    assert batch < 8 and batch * accum >= 8
    assert fit.advice(shape, batch, accum, 4096, checkpointing=True, available=H100) is None
    # 1024 tokens: checkpointing alone makes it fit
    only_ckpt = fit.advice(shape, 8, 1, 1024, checkpointing=False, available=H100)
    assert only_ckpt.endswith("turn --gradient-checkpointing back on")


def test_gpu_preflight_refuses_before_loading(qwen7b_config, tmp_path, monkeypatch):
    import torch

    from curate.training import model
    from curate.training.base import TrainConfig

    qwen7b_config.save_pretrained(tmp_path)  # config.json only: nothing to load
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (H100, H100))
    config = TrainConfig(model=str(tmp_path), batch_size=8, grad_accum=1, lora_rank=8)
    model.check_fits(config, longest=128, checkpointing=True)  # riddles: fine
    with pytest.raises(CurateError, match="turn --gradient-checkpointing back on"):
        model.check_fits(config, longest=1024, checkpointing=False)
