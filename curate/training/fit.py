"""Will it fit: training memory estimated before the model loads, and the flag to change if not.

GPU bytes = weights + LoRA (weights, grads, Adam moments) + activations of the longest batch
+ logits + a fixed overhead. Activations follow Korthikanti et al. 2022 ("Reducing Activation
Recomputation in Large Transformer Models": s·b·h·(34 + 5·a·s/h) bytes a layer for GPT's 4h
MLP in 16-bit), redone for a gated MLP of width i with SDPA/flash attention (no a·s² term)
and LoRA's dropout copies: about 13h + 2·kv + 5i values a token a layer. With activation
checkpointing a layer keeps only its input (h values) and recomputes one layer at a time.
The loss upcasts the logits to fp32, so they cost about 12 bytes a token per vocabulary entry.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1 << 30
OVERHEAD = 1.5 * GIB  # CUDA context, allocator slack, kernels' workspaces
LORA_BYTES = 4 + 4 + 8  # fp32 weight, grad and two Adam moments per trainable parameter
LOGIT_BYTES = 2 + 4 + 4 + 2  # bf16 logits, their fp32 copy, its grad, the bf16 grad


@dataclass(frozen=True)
class Shape:
    """The dimensions that set training memory (from a model's config.json)."""

    params: int  # all parameters
    lora_params: int  # trainable: rank x (in + out) of every adapted linear layer
    hidden: int
    intermediate: int
    kv_dim: int  # key/value width (grouped-query attention makes it smaller than hidden)
    layers: int
    vocab: int


def estimate(shape: Shape, batch: int, seq: int, checkpointing: bool, weight_bytes: int = 2):
    """Bytes by part ({weights, lora, activations, logits, overhead}) for one batch x seq."""
    tokens = batch * seq
    layer = 2 * (13 * shape.hidden + 2 * shape.kv_dim + 5 * shape.intermediate)  # per token
    if checkpointing:
        activations = tokens * (shape.layers * 2 * shape.hidden + layer)
    else:
        activations = tokens * shape.layers * layer
    return {
        "weights": shape.params * weight_bytes,
        "lora": shape.lora_params * LORA_BYTES,
        "activations": activations,
        "logits": tokens * shape.vocab * LOGIT_BYTES,
        "overhead": int(OVERHEAD),
    }


def advice(shape: Shape, batch: int, grad_accum: int, seq: int, checkpointing: bool,
           available: int, weight_bytes: int = 2) -> str | None:  # fmt: skip
    """None when the longest batch fits in `available` bytes, else what to change and why."""
    need = sum(estimate(shape, batch, seq, checkpointing, weight_bytes).values())
    if need <= available:
        return None
    head = (
        f"training needs about {need / GIB:.0f} GiB for the longest batch ({batch} x {seq} "
        f"tokens) but {available / GIB:.0f} GiB is free on the GPU"
    )
    if not checkpointing and sum(estimate(shape, batch, seq, True, weight_bytes).values()) <= (
        available
    ):
        return f"{head}; turn --gradient-checkpointing back on"
    for smaller in range(batch - 1, 0, -1):
        if sum(estimate(shape, smaller, seq, True, weight_bytes).values()) <= available:
            accum = -(-batch * grad_accum // smaller)
            flags = "" if checkpointing else "--gradient-checkpointing "
            return (
                f"{head}; use {flags}--batch-size {smaller} --grad-accum {accum} (the same "
                f"{smaller * accum} examples a step), or a lower --max-seq-len"
            )
    return f"{head}; even one example does not fit: lower --max-seq-len or use a bigger GPU"


def shape_of(config, targets: list[str] | None, rank: int) -> Shape:
    """The Shape of a transformers config, counted on the meta device (no memory, no weights)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    head = model.get_output_embeddings()
    lora = 0
    for name, module in model.named_modules():
        adapted = targets is None or name.rsplit(".", 1)[-1] in targets
        if isinstance(module, torch.nn.Linear) and module is not head and adapted:
            lora += rank * (module.in_features + module.out_features)
    text = getattr(config, "get_text_config", lambda: config)()
    heads = text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    return Shape(
        params=sum(p.numel() for p in model.parameters()),
        lora_params=lora,
        hidden=text.hidden_size,
        intermediate=getattr(text, "intermediate_size", 4 * text.hidden_size),
        kv_dim=kv_heads * head_dim,
        layers=text.num_hidden_layers,
        vocab=text.vocab_size,
    )
