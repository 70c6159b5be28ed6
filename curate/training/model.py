"""Loading a causal LM and its tokenizer for LoRA training, with errors a user can act on."""

from __future__ import annotations

import os

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from curate.errors import CurateError, InputError

# Training on CPU holds fp32 weights plus activations and optimizer state for the adapter:
# refuse models whose fp32 weights alone would take more than this share of the RAM.
CPU_RAM_SHARE = 0.5


def precision() -> tuple[str, torch.dtype]:
    """bf16 on a GPU that has it, fp16 on an older GPU, fp32 on CPU."""
    if torch.cuda.is_available():
        if torch.cuda.is_bf16_supported():
            return "bf16", torch.bfloat16
        return "fp16", torch.float16
    return "fp32", torch.float32


def _unreadable(name: str, exc: Exception) -> InputError:
    first = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
    return InputError(
        f"cannot load model {name!r}: {first}. Pass a folder with config.json, the weights and "
        "the tokenizer files, or a hub id (needs network access)"
    )


def load_tokenizer(name: str):
    """The tokenizer; it must carry a chat template, and gets a pad token if it lacks one."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError, KeyError) as exc:
        raise _unreadable(name, exc) from None
    if not getattr(tokenizer, "chat_template", None):
        raise InputError(
            f"the tokenizer of {name!r} has no chat template; use a chat/instruct model "
            "(e.g. Qwen/Qwen2.5-7B-Instruct) or add a chat_template to tokenizer_config.json"
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # padding is masked out of the loss anyway
    return tokenizer


def load_model(name: str):
    """The causal LM in the training precision (see `precision`)."""
    try:
        return AutoModelForCausalLM.from_pretrained(name, dtype=precision()[1])
    except (OSError, ValueError, KeyError) as exc:
        raise _unreadable(name, exc) from None


def ram_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def parameter_count(config) -> int:
    """Parameters of a model built from `config` on the meta device (no memory, no weights)."""
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def check_fits(name: str) -> None:
    """Without a CUDA GPU, refuse models that cannot train on this CPU, before loading them."""
    try:
        config = AutoConfig.from_pretrained(name)
    except (OSError, ValueError, KeyError) as exc:
        raise _unreadable(name, exc) from None
    if torch.cuda.is_available():
        return
    quant = getattr(config, "quantization_config", None)
    if quant:
        method = quant.get("quant_method", "quantized") if isinstance(quant, dict) else "quantized"
        raise CurateError(
            f"{name!r} has {method} weights, which need a CUDA GPU, and none was found; "
            "train on a GPU machine or use the unquantized model"
        )
    n = parameter_count(config)
    if n * 4 > CPU_RAM_SHARE * ram_bytes():
        raise CurateError(
            f"{name!r} has {n / 1e9:.1f}B parameters (~{n * 4 / 2**30:.0f} GiB in fp32) and no "
            f"CUDA GPU was found (this machine has {ram_bytes() / 2**30:.0f} GiB RAM); train it "
            "on a GPU (bf16), e.g. with --backend siliconflow, or pick a smaller model"
        )
