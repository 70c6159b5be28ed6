"""Local LoRA fine-tuning with transformers' Trainer and peft, on CPU or GPU(s).

Reads the export's train/validation shards, renders each conversation with the model's own chat
template, trains a LoRA adapter with the loss on assistant tokens only, and writes the adapter,
tokenizer, resolved config, metrics and a loss plot. Multi-GPU: `torchrun --nproc-per-node N
-m curate train ...` or `accelerate launch --num-processes N -m curate train ...`; the Trainer
picks the processes up, each loads the model onto its own GPU, the main process reports.
"""

from __future__ import annotations

import gc
import math
import os
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import Trainer, TrainingArguments, set_seed
from transformers.trainer_callback import ProgressCallback

from curate.errors import ConfigError, InputError
from curate.training import outputs, records, resume
from curate.training.base import TrainConfig, TrainResult
from curate.training.callbacks import KeepBest, Meter
from curate.training.collate import AssistantOnlyCollator, encode
from curate.training.model import (
    check_fits,
    check_source,
    checkpointing,
    load_model,
    load_tokenizer,
    precision,
)

__all__ = ["generate", "load_for_inference", "run"]


def run(config: TrainConfig) -> TrainResult:
    """Train a LoRA adapter on `config.data` and save everything under `config.output`."""
    result = _train(config)  # the trainer and the model go with _train's frame
    _leave_group()
    return result


def _train(config: TrainConfig) -> TrainResult:
    out = Path(config.output)
    main_process = int(os.environ.get("RANK", "0")) == 0
    check_source(config.model)
    train_rows, val_rows = outputs.read_export(config.data)
    config, checkpoint, ignored = resume.checkpoint(config)
    set_seed(config.seed)  # before the adapter is created: its initial weights are random
    tokenizer = load_tokenizer(config.model)
    train_set, stats = _encode_all(tokenizer, train_rows, config.max_seq_len)
    val_set, _ = _encode_all(tokenizer, val_rows, config.max_seq_len)
    if not train_set:
        raise ConfigError(
            f"none of the {stats['rows']} training conversations fits --max-seq-len "
            f"{config.max_seq_len} tokens even without its question; raise --max-seq-len"
        )
    longest = max(len(e["input_ids"]) for e in train_set + val_set)
    check_fits(config, longest, checkpointing(config))
    model = _with_lora(load_model(config.model), config)
    if main_process:
        resume.write_config(config, ignored)  # now: a run stopped early can be resumed
    meter, best = Meter(), KeepBest(out, main_process)
    trainer = _trainer(model, tokenizer, config, train_set, val_set, [meter, best])
    trainer.train(resume_from_checkpoint=checkpoint)
    if val_set:
        trainer.evaluate()  # a final validation loss at the last step (kept if it is the best)
    if not main_process:  # under torchrun / accelerate launch: the main process reports
        return TrainResult("local", out, config, reporting=False)
    performance = meter.report()
    files = outputs.save_run(
        trainer, tokenizer, config, stats, len(val_set), best.report(), performance
    )
    files["config"] = resume.write_config(config, ignored)
    files |= _train_record(out, config, train_rows)
    if best.step is not None:
        files["best"] = best.folder
    if config.merge:
        files["merged"] = _merge(trainer.model, tokenizer, out / "merged")
    metrics = outputs.summary(trainer.state.log_history, stats, len(val_set))
    metrics |= best.report() | performance
    metrics["precision"] = precision()[0]
    metrics["gradient_checkpointing"] = checkpointing(config)
    if checkpoint:
        metrics["resumed_from"] = Path(checkpoint).name
    notes = outputs.notes(stats, config, len(val_set))
    if records.HASHES_FILE not in {p.name for p in files.values()}:
        notes += (
            f"{records.HASHES_FILE} was not written: it needs opencc (the data extra), so "
            "curate eval cannot check this adapter's riddles against its training",
        )
    notes += tuple(f"--force-resume: ignored {k} {v}" for k, v in ignored.items())
    return TrainResult("local", out, config, metrics, files, notes)


def _leave_group() -> None:
    """Under torchrun the processes leave the process group together, once the main one has
    saved and the trainer (its DDP reducer holds the group) is gone: a process that exits with
    the group alive can abort at exit ("terminate called without an active exception"), and a
    group freed after the other process left can hang in gloo's destructor."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        gc.collect()  # the reducer sits in reference cycles (trainer <-> callbacks)
        dist.barrier()
        dist.destroy_process_group()


def _train_record(out: Path, config: TrainConfig, rows: list[dict]) -> dict[str, Path]:
    """Eval's overlap guard (records.py). Its hashes normalize with OpenCC, which a GPU machine
    set up for training only may lack: then the run still succeeds and says so."""
    shards = sorted(Path(config.data).glob("train-*.jsonl"))
    try:
        return records.write_train_record(out, shards, rows)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "opencc" and "opencc" not in str(exc):
            raise
        return {}


def _encode_all(tokenizer, rows: list[dict], max_seq_len: int) -> tuple[list[dict], dict]:
    """Encode every conversation; count the cut ones and skip those that cannot fit."""
    examples, truncated, skipped = [], 0, 0
    for row in rows:
        enc = encode(tokenizer, row["messages"], max_seq_len)
        if not enc.fits:
            skipped += 1  # its system prompt and answer alone are longer than max_seq_len
            continue
        truncated += enc.truncated
        examples.append({"input_ids": enc.input_ids, "assistant_mask": enc.assistant_mask})
    tokens = sum(len(e["input_ids"]) for e in examples)
    stats = {"examples": len(examples), "truncated": truncated, "skipped": skipped}
    return examples, {**stats, "tokens": tokens, "rows": len(rows)}


def _with_lora(model, config: TrainConfig):
    if checkpointing(config):
        _checkpoint_activations(model)
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


def _checkpoint_activations(model) -> None:
    """Activation checkpointing, non-reentrant (it works with frozen inputs and DDP).

    transformers 5 renamed gradient_checkpointing_enable to activation_checkpointing_enable
    and deprecated the old name; the floor version may predate the new one.
    """
    options = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=options)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=options)
    model.config.use_cache = False  # the cache is for generation; it conflicts with recompute


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


def _trainer(model, tokenizer, config: TrainConfig, train_set, val_set, callbacks) -> Trainer:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_step = config.batch_size * config.grad_accum * world
    per_epoch = math.ceil(len(train_set) / per_step)
    total = per_epoch * config.epochs
    name, _ = precision()
    args = TrainingArguments(
        output_dir=str(Path(config.output) / "checkpoints"),
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
        # LoRA on every block: all parameters get a gradient, so DDP need not search for
        # unused ones (an extra autograd traversal each step).
        ddp_find_unused_parameters=False,
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
    for callback in (outputs.LossBar(), *callbacks):
        trainer.add_callback(callback)
    return trainer


def _merge(model, tokenizer, folder: Path) -> Path:
    """Fold the adapter into the base weights and save a full model (run last: it mutates)."""
    merged = model.merge_and_unload()
    merged.config.use_cache = True  # training turned it off; the merged model is for inference
    merged.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def load_for_inference(model: str | Path, adapter: str | Path | None = None):
    """(model, tokenizer) ready for generation: the base model, with `adapter` merged in."""
    check_source(str(model))  # a missing folder or an unknown hub id: one clear error, fast
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
