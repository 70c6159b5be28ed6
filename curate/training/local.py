"""Local LoRA fine-tuning with transformers' Trainer and peft, on CPU or GPU(s).

Reads the export's train/validation shards, renders each conversation with the model's own chat
template, trains a LoRA adapter with the loss on assistant tokens only, and writes the adapter,
tokenizer, resolved config, metrics and a loss plot. Multi-GPU: `accelerate launch -m curate.cli
train ...` or `torchrun -m curate.cli train ...`; the Trainer picks the processes up.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import Trainer, TrainingArguments, set_seed
from transformers.trainer_callback import ProgressCallback
from transformers.trainer_utils import get_last_checkpoint

from curate.errors import ConfigError, InputError
from curate.training import outputs, records
from curate.training.base import TrainConfig, TrainResult
from curate.training.collate import AssistantOnlyCollator, encode
from curate.training.model import check_fits, load_model, load_tokenizer, precision

__all__ = ["generate", "load_for_inference", "run"]


def run(config: TrainConfig) -> TrainResult:
    """Train a LoRA adapter on `config.data` and save everything under `config.output`."""
    out = Path(config.output)
    train_rows, val_rows = outputs.read_export(config.data)
    checkpoint = _checkpoint(out / "checkpoints", config.resume)
    check_fits(config.model)
    set_seed(config.seed)  # before the adapter is created: its initial weights are random
    tokenizer = load_tokenizer(config.model)
    train_set, stats = _encode_all(tokenizer, train_rows, config.max_seq_len)
    val_set, _ = _encode_all(tokenizer, val_rows, config.max_seq_len)
    if not train_set:
        raise ConfigError(
            f"all {stats['rows']} training conversations lose their answer when cut to "
            f"--max-seq-len {config.max_seq_len} tokens; raise --max-seq-len"
        )
    model = _with_lora(load_model(config.model), config)
    trainer = _trainer(model, tokenizer, config, train_set, val_set, out)
    seen_before = trainer.state.num_input_tokens_seen
    result = trainer.train(resume_from_checkpoint=checkpoint)
    seen = trainer.state.num_input_tokens_seen - seen_before
    if val_set:
        trainer.evaluate()  # a final validation loss at the last step
    if not trainer.is_world_process_zero():  # under torchrun/accelerate: rank 0 reports
        return TrainResult("local", out, config)
    files = outputs.save_run(trainer, tokenizer, config, stats, len(val_set))
    shards = sorted(Path(config.data).glob("train-*.jsonl"))
    files |= records.write_train_record(out, shards, train_rows)  # eval's overlap guard
    if config.merge:
        files["merged"] = _merge(trainer.model, tokenizer, out / "merged")
    metrics = outputs.summary(trainer.state.log_history, stats, len(val_set))
    metrics["tokens_per_s"] = round(seen / max(result.metrics["train_runtime"], 1e-9), 1)
    metrics["precision"] = precision()[0]
    if checkpoint:
        metrics["resumed_from"] = Path(checkpoint).name
    notes = outputs.notes(stats, config, len(val_set))
    return TrainResult("local", out, config, metrics, files, notes)


def _checkpoint(folder: Path, resume: bool) -> str | None:
    """The checkpoint to resume from; refuse to mix a fresh run into an old run's folder."""
    last = get_last_checkpoint(str(folder)) if folder.is_dir() else None
    if resume and last is None:
        raise InputError(f"--resume: no checkpoint in {folder}; run without --resume to start")
    if not resume and last is not None:
        raise ConfigError(
            f"{folder} holds checkpoints of an earlier run; pass --resume to continue it, "
            "or remove that folder (or pick another --output) to start again"
        )
    return last


def _encode_all(tokenizer, rows: list[dict], max_seq_len: int) -> tuple[list[dict], dict]:
    """Encode every conversation; count the cut ones and drop those left with no answer."""
    examples, truncated, dropped = [], 0, 0
    for row in rows:
        enc = encode(tokenizer, row["messages"], max_seq_len)
        truncated += enc.truncated
        if not any(enc.assistant_mask):
            dropped += 1  # cut before its answer started: nothing to learn from
            continue
        examples.append({"input_ids": enc.input_ids, "assistant_mask": enc.assistant_mask})
    tokens = sum(len(e["input_ids"]) for e in examples)
    stats = {"examples": len(examples), "truncated": truncated, "dropped": dropped}
    return examples, {**stats, "tokens": tokens, "rows": len(rows)}


def _with_lora(model, config: TrainConfig):
    if config.gradient_checkpointing:
        # Non-reentrant checkpointing works with frozen inputs (no enable_input_require_grads).
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules or linear_layers(model)),
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise ConfigError(f"--target-modules: {exc}") from None


def linear_layers(model) -> list[str]:
    """Names of the linear layers in the blocks (q_proj, ..., down_proj), not the output head.

    Short names, sorted: the form vLLM and peft both accept, and the same on every run.
    """
    head = model.get_output_embeddings()
    names = {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module is not head
    }
    return sorted(names)


def _trainer(model, tokenizer, config: TrainConfig, train_set, val_set, out: Path) -> Trainer:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_step = config.batch_size * config.grad_accum * world
    per_epoch = math.ceil(len(train_set) / per_step)
    total = per_epoch * config.epochs
    name, _ = precision()
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.lr,
        warmup_steps=0.03,  # a float below 1 is a fraction of all steps
        logging_steps=max(1, total // 100),  # about 100 points on the loss curve
        eval_strategy="steps" if val_set else "no",
        eval_steps=max(1, total // 10),
        # Checkpoint at epoch ends, at most ~10 times a run (the last step is always saved).
        save_strategy="steps",
        save_steps=per_epoch * math.ceil(config.epochs / 10),
        save_total_limit=2,
        bf16=name == "bf16",
        fp16=name == "fp16",
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=not torch.cuda.is_available(),
        report_to="none",
        remove_unused_columns=False,  # our examples carry assistant_mask for the collator
        include_num_input_tokens_seen="non_padding",
    )
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=AssistantOnlyCollator(pad_token_id=tokenizer.pad_token_id),
        train_dataset=train_set,
        eval_dataset=val_set or None,
        processing_class=tokenizer,
    )
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(outputs.LossBar())
    return trainer


def _merge(model, tokenizer, folder: Path) -> Path:
    """Fold the adapter into the base weights and save a full model (run last: it mutates)."""
    merged = model.merge_and_unload()
    merged.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def load_for_inference(model: str | Path, adapter: str | Path | None = None):
    """(model, tokenizer) ready for generation: the base model, with `adapter` merged in."""
    source = adapter if adapter and Path(adapter, "tokenizer_config.json").exists() else model
    tokenizer = load_tokenizer(str(source))
    base = load_model(str(model))
    if adapter is not None:
        if not Path(adapter, "adapter_config.json").is_file():
            raise InputError(f"{adapter} has no adapter_config.json; is it a `curate train` run?")
        base = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return base.to(device).eval(), tokenizer


@torch.inference_mode()
def generate(
    model,
    tokenizer,
    conversations: list[list[dict]],
    max_new_tokens: int = 64,
    batch_size: int = 16,
) -> list[str]:
    """Greedy replies to each conversation (rendered with the chat template's generation prompt)."""
    tokenizer.padding_side = "left"  # decoder-only models continue from the right edge
    replies = []
    for i in range(0, len(conversations), batch_size):
        chunk = conversations[i : i + batch_size]
        texts = [
            tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
            for c in chunk
        ]
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(model.device)
        ids = model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
        new = ids[:, batch["input_ids"].shape[1] :]
        replies += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return replies
