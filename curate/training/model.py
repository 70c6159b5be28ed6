"""Loading a causal LM and its tokenizer for LoRA training, with errors a user can act on."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from curate.errors import CurateError, InputError
from curate.training import fit
from curate.training.base import TrainConfig

# Training on CPU holds fp32 weights plus activations and optimizer state for the adapter:
# refuse models whose fp32 weights alone would take more than this share of the RAM.
CPU_RAM_SHARE = 0.5
MIN_VOCAB = 16  # fewer tokens than this is no real tokenizer (see load_tokenizer)
HUB_TIMEOUT = 10.0  # seconds for the one hub lookup of a --model that is no local folder


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


def looks_like_path(name: str) -> bool:
    """A folder the user meant (./x, ../x, /x, ~/x, x/y/z), not a hub id (owner/name)."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def check_source(name: str) -> None:
    """A local folder first; else a hub id, asked once (no retries) before anything loads.

    Without this a missing folder reads "Repo id must be in the form...", and a hub id
    without network spends most of a minute in retries before failing.
    """
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise InputError(f"{name!r} has no config.json; is it a transformers model folder?")
        return
    if looks_like_path(name):
        raise InputError(f"--model {name}: no such folder")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    try:  # a model already in the local hub cache needs no network
        AutoConfig.from_pretrained(name, local_files_only=True)
        return
    except (OSError, ValueError):
        pass
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    try:
        if offline:
            raise OfflineModeIsEnabled(name)
        # The environment read now, not at import: HF_ENDPOINT may point at a mirror.
        HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None).model_info(name, timeout=HUB_TIMEOUT)
    except OfflineModeIsEnabled:
        raise InputError(
            f"--model {name}: not a local folder, and the hub is off (HF_HUB_OFFLINE); "
            "pass the folder of a downloaded model"
        ) from None
    except HfHubHTTPError as exc:
        status = getattr(exc.response, "status_code", None)
        raise InputError(
            f"--model {name}: no such local folder, and the hub answered HTTP {status} for it; "
            "check the spelling (hub ids look like Qwen/Qwen2.5-7B-Instruct)"
        ) from None
    except Exception as exc:  # noqa: BLE001 (any network failure reads the same to the user)
        raise InputError(
            f"--model {name}: no such local folder, and the hub could not be reached "
            f"({type(exc).__name__}); a hub id needs network access: connect, or pass the "
            "folder of a downloaded model"
        ) from None


def load_tokenizer(name: str):
    """The tokenizer; it must carry a chat template, and gets a pad token if it lacks one."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError, KeyError) as exc:
        raise _unreadable(name, exc) from None
    # transformers 5 builds an empty tokenizer (one special token) for a folder with no
    # tokenizer files at all: every text would encode to nothing, and training would crash.
    if len(tokenizer) < MIN_VOCAB:
        raise InputError(
            f"{name!r} has no tokenizer (tokenizer.json, or vocab.json and merges.txt, or "
            "tokenizer.model); copy the tokenizer files from the model it was made from"
        )
    if not getattr(tokenizer, "chat_template", None):
        raise InputError(
            f"the tokenizer of {name!r} has no chat template; use a chat/instruct model "
            "(e.g. Qwen/Qwen2.5-7B-Instruct) or add a chat_template to tokenizer_config.json"
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # padding is masked out of the loss anyway
    return tokenizer


def local_rank() -> int:
    """This process's GPU under torchrun / accelerate launch (0 alone)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def load_model(name: str):
    """The causal LM in the training precision (see `precision`), on this process's device.

    On a GPU the weights load straight onto it (device_map), so that N processes under
    torchrun do not each hold a full copy in host memory first.
    """
    device = {"device_map": {"": local_rank()}} if torch.cuda.is_available() else {}
    try:
        return AutoModelForCausalLM.from_pretrained(name, dtype=precision()[1], **device)
    except (OSError, ValueError, KeyError) as exc:
        raise _unreadable(name, exc) from None


def ram_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def checkpointing(config: TrainConfig) -> bool:
    """--gradient-checkpointing as asked; unset: on with a CUDA GPU (memory), off on CPU."""
    if config.gradient_checkpointing is None:
        return torch.cuda.is_available()
    return config.gradient_checkpointing


def check_fits(config: TrainConfig, longest: int, checkpointing: bool) -> None:
    """Refuse, before loading, a run that cannot fit: on CPU the weights against the RAM, on a
    GPU the estimate of `fit` for the longest batch, naming the flag to change."""
    try:
        model_config = AutoConfig.from_pretrained(config.model)
    except (OSError, ValueError, KeyError) as exc:
        raise _unreadable(config.model, exc) from None
    name = config.model
    if torch.cuda.is_available():
        targets = list(config.target_modules) if config.target_modules else None
        shape = fit.shape_of(model_config, targets, config.lora_rank)
        free, _ = torch.cuda.mem_get_info(local_rank())
        problem = fit.advice(
            shape, config.batch_size, config.grad_accum, longest, checkpointing, free,
            weight_bytes=precision()[1].itemsize,
        )  # fmt: skip
        if problem:
            raise CurateError(f"{name!r}: {problem}")
        return
    quant = getattr(model_config, "quantization_config", None)
    if quant:
        method = quant.get("quant_method", "quantized") if isinstance(quant, dict) else "quantized"
        raise CurateError(
            f"{name!r} has {method} weights, which need a CUDA GPU, and none was found; "
            "train on a GPU machine or use the unquantized model"
        )
    n = fit.shape_of(model_config, None, 1).params
    if n * 4 > CPU_RAM_SHARE * ram_bytes():
        raise CurateError(
            f"{name!r} has {n / 1e9:.1f}B parameters (~{n * 4 / 2**30:.0f} GiB in fp32) and no "
            f"CUDA GPU was found (this machine has {ram_bytes() / 2**30:.0f} GiB RAM); train it "
            "on a GPU (bf16), e.g. with --backend siliconflow, or pick a smaller model"
        )
