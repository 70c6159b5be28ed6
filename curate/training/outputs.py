"""The local run's edges: reading the export, the progress bar, metrics.json and the loss plot."""

from __future__ import annotations

import json
from pathlib import Path

from tqdm.auto import tqdm
from transformers import TrainerCallback

from curate.errors import InputError
from curate.files import atomic_path, write_json
from curate.messages import read_conversations
from curate.training.base import TrainConfig
from curate.verify import empty_split, split_files

EXPORT_HINT = "run `curate export --format jsonl` first, or pass --data EXPORT_DIR"


def _read_rows(files: list[Path]) -> list[dict]:
    """`{"messages": [...]}` of every line, checked by the one messages reader (multi-turn ok)."""
    hint = "check them with `curate validate` or rerun `curate export --format jsonl`"
    return [{"messages": c.messages} for c in read_conversations(files, "the export", hint)]


def read_export(data: Path) -> tuple[list[dict], list[dict]]:
    """(train rows, validation rows) from the export's train-*.jsonl and validation-*.jsonl;
    an export whose files differ from its manifest is refused (StageError)."""
    data = Path(data)
    if not data.is_dir():
        raise InputError(f"export folder {data} not found; {EXPORT_HINT}")
    train_files = split_files(data, "train")
    if not train_files:
        why = empty_split(data, "train")
        raise InputError(why or f"no train-*.jsonl files in {data}; {EXPORT_HINT}")
    train = _read_rows(train_files)
    val = _read_rows(split_files(data, "validation"))
    if not train:
        raise InputError(f"the train files in {data} are empty; {EXPORT_HINT}")
    return train, val


class LossBar(TrainerCallback):
    """One progress bar over the optimizer steps, with the latest train and validation loss."""

    def __init__(self) -> None:
        self.bar = None
        self.shown: dict[str, str] = {}

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="train")

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is not None and logs:
            for key, label in (("loss", "loss"), ("eval_loss", "val_loss")):
                if key in logs:
                    self.shown[label] = f"{logs[key]:.4f}"
            self.bar.set_postfix(self.shown, refresh=True)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def curves(log_history: list[dict]) -> tuple[list[dict], list[dict]]:
    """Train and validation loss over steps from the Trainer's log (no wall-clock fields)."""
    train, val = [], {}
    for entry in log_history:
        point = {"step": entry["step"], "epoch": round(entry.get("epoch", 0.0), 4)}
        if "loss" in entry:
            lr = entry.get("learning_rate", 0.0)
            train.append({**point, "loss": round(entry["loss"], 6), "learning_rate": lr})
        if "eval_loss" in entry:
            val[entry["step"]] = {**point, "loss": round(entry["eval_loss"], 6)}
    return train, list(val.values())  # a step evaluated twice (final evaluate) counts once


def summary(log_history: list[dict], stats: dict, n_val: int) -> dict:
    train, val = curves(log_history)
    out = {
        "train_examples": stats["examples"],
        "validation_examples": n_val,
        "truncated": stats["truncated"],
        "skipped": stats["skipped"],
        # The Trainer's last entry (train_runtime ...) carries the step count; losses are
        # only logged every logging_steps, so the last loss may be a few steps earlier.
        "steps": max((entry.get("step", 0) for entry in log_history), default=0),
    }
    if train:
        out.update(first_loss=train[0]["loss"], final_loss=train[-1]["loss"])
    if val:
        out["validation_loss"] = val[-1]["loss"]
    return out


def plot(train: list[dict], val: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display; files only
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot([p["step"] for p in train], [p["loss"] for p in train], label="train")
    if val:
        steps, losses = [p["step"] for p in val], [p["loss"] for p in val]
        ax.plot(steps, losses, marker="o", label="validation")
    ax.set(xlabel="optimizer step", ylabel="loss (assistant tokens)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})  # no version stamp
    plt.close(fig)


def save_run(
    trainer, tokenizer, config: TrainConfig, stats: dict, n_val: int, best: dict, performance: dict
) -> dict[str, Path]:
    """Adapter, tokenizer, metrics.json and loss.png in the output folder.

    metrics.json is the same bytes on a rerun except its "performance" part (time, memory).
    """
    out = Path(config.output)
    trainer.model.save_pretrained(out)  # adapter_config.json + adapter_model.safetensors
    sort_target_modules(out / "adapter_config.json")
    tokenizer.save_pretrained(out)
    train, val = curves(trainer.state.log_history)
    metrics = {"summary": summary(trainer.state.log_history, stats, n_val) | best}
    metrics |= {"performance": performance, "train": train, "validation": val}
    write_json(out / "metrics.json", metrics)
    plot(train, val, out / "loss.png", f"{config.name}: LoRA r={config.lora_rank}")
    return {
        "adapter": out / "adapter_model.safetensors",
        "metrics": out / "metrics.json",
        "plot": out / "loss.png",
        "checkpoints": out / "checkpoints",
    }


def sort_target_modules(path: Path) -> None:
    """peft writes target_modules from a set, in hash order; sort it so re-runs match."""
    config = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
    write_json(path, config)


def notes(stats: dict, config: TrainConfig, n_val: int) -> tuple[str, ...]:
    """Things the user should know about the run, in plain sentences."""
    lines = []
    if stats["truncated"]:
        lines.append(
            f"{stats['truncated']} of {stats['rows']} training conversations were longer than "
            f"--max-seq-len {config.max_seq_len} tokens and were cut"
        )
    if stats["truncated"]:
        lines[-1] += " from the start of the question (the system prompt and answer are whole)"
    if stats["skipped"]:
        lines.append(
            f"{stats['skipped']} of {stats['rows']} training conversations were skipped: their "
            f"system prompt and answer alone are longer than --max-seq-len {config.max_seq_len}"
        )
    if not n_val:
        lines.append(f"no validation-*.jsonl in {config.data}: no validation loss was computed")
    return tuple(lines)
