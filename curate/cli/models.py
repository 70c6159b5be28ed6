"""`curate train` and `curate eval`: the commands that touch models, registered by cli.py.

Heavy libraries (torch, transformers, peft) are imported inside the commands only.
"""

from __future__ import annotations

from pathlib import Path

import click

from curate.cli.options import PATH, with_options

_PRESET = "[default: from --preset]"
# (flag, click.option kwargs) for both backends; unset hyperparameters come from --preset.
_TRAIN_OPTIONS = [
    ("--backend", dict(type=click.Choice(["local", "siliconflow"]), default="local")),
    ("--model", dict(help="Local folder or hub id (local); base model (siliconflow).")),
    ("--data", dict(type=PATH, default=Path("processed/export/jsonl"), show_default=True)),
    ("--output", dict(type=PATH, help="Output dir  [default: train/runs/NAME]")),
    ("--name", dict(help="Run name (siliconflow: the console task name).")),
    ("--preset", dict(default="standard", help="standard | quality | light | FILE.toml")),
    ("--epochs", dict(type=int, help=_PRESET)),
    ("--lr", dict(type=float, help=_PRESET)),
    ("--batch-size", dict(type=int, help=_PRESET)),
    ("--grad-accum", dict(type=int, help=_PRESET)),
    ("--max-seq-len", dict(type=int, help=_PRESET)),
    ("--lora-rank", dict(type=int, help=_PRESET)),
    ("--lora-alpha", dict(type=float, help=_PRESET)),
    ("--lora-dropout", dict(type=float, help=_PRESET)),
    ("--target-modules", dict(help="Comma-separated  [default: all linear layers]")),
    ("--seed", dict(type=int, default=42, show_default=True)),
    ("--resume", dict(is_flag=True, help="Continue from the last checkpoint.")),
    ("--merge", dict(is_flag=True, help="Also write the adapter merged into a full model.")),
    ("--gradient-checkpointing", dict(is_flag=True, help="Trade compute for GPU memory.")),
    ("--base-url", dict(default="https://api.siliconflow.cn/v1", show_default=True)),
    ("--api-key-env", dict(default="SILICONFLOW_API_KEY", show_default=True)),
    ("--dry-run", dict(is_flag=True, help="siliconflow: everything but the upload.")),
    ("--attach", dict(metavar="MODEL_ID", help="siliconflow: verify an ft:LoRA/... model id.")),
    ("--wait", dict(is_flag=True, help="With --attach: poll until the model answers.")),
    ("--wait-timeout", dict(type=float, default=1800.0, show_default=True)),
    ("--own-validation", dict(is_flag=True, help="siliconflow: upload our validation split.")),
]


@click.command()
@with_options(_TRAIN_OPTIONS)
def train(**kwargs) -> None:
    """Fine-tune a LoRA adapter on an export: locally, or on SiliconFlow."""
    from rich.console import Console

    from curate.training import TrainConfig
    from curate.training import train as run_train

    modules = kwargs.pop("target_modules")
    targets = tuple(m.strip() for m in modules.split(",") if m.strip()) if modules else None
    result = run_train(TrainConfig(**kwargs, target_modules=targets))
    console = Console()
    console.print(f"[bold]train[/] ({result.backend}) -> {result.output}")
    for key, value in [*result.metrics.items(), *result.files.items()]:
        console.print(f"  {key}: {value}")
    for note in result.notes:
        console.print(note, soft_wrap=True, markup=False, highlight=False)


_EVAL_OPTIONS = [
    ("--data", dict(type=PATH, default=Path("processed/export/jsonl"), show_default=True)),
    ("--split", dict(default="validation", show_default=True)),
    ("--limit", dict(type=int, help="Only the first N riddles of the split.")),
    ("--system-prompt", dict(help="Adds the system_prompt config; 'default': a riddle expert.")),
    ("--output", dict(type=PATH, help="Output dir  [default: train/runs/eval-NAME]")),
    ("--endpoint", dict(help="OpenAI-compatible base URL, e.g. https://api.siliconflow.cn/v1")),
    ("--base-model", dict(help="Endpoint: the model id before fine-tuning.")),
    ("--finetuned-model", dict(help="Endpoint: the fine-tuned id (ft:LoRA/...).")),
    ("--api-key-env", dict(default="SILICONFLOW_API_KEY", show_default=True)),
    ("--no-key", dict(is_flag=True, help="Send no key (on 127.0.0.1 a missing key is fine).")),
    ("--concurrency", dict(type=int, default=4, show_default=True, help="Requests in flight.")),
    ("--model", dict(type=PATH, help="Local: a transformers model folder.")),
    ("--adapter", dict(type=PATH, help="Local: the LoRA adapter folder (adds finetuned).")),
    ("--batch-size", dict(type=int, default=8, show_default=True, help="Local: batch size.")),
    ("--max-tokens", dict(type=int, default=64, show_default=True)),
    ("--examples", dict(type=int, default=3, show_default=True, help="Per table in eval.md.")),
]


@click.command(name="eval")
@with_options(_EVAL_OPTIONS)
def eval_(**kwargs) -> None:
    """Compare base, base + system prompt and fine-tuned on held-out riddles.

    Either an OpenAI-compatible endpoint (--endpoint URL --base-model ID [--finetuned-model
    ID]; key from $SILICONFLOW_API_KEY) or a local model (--model PATH [--adapter DIR]).
    Writes eval.json, eval.md and responses.jsonl to --output.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from curate.evaluation import DEFAULT_SYSTEM_PROMPT, EvalConfig, evaluate

    if kwargs["system_prompt"] == "default":
        kwargs["system_prompt"] = DEFAULT_SYSTEM_PROMPT
    console = Console()
    bars = Progress(TextColumn("{task.description:>13}"), BarColumn(), MofNCompleteColumn())
    tasks: dict[str, object] = {}

    def progress(name: str, advance: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bars.add_task(name, total=total)
        bars.advance(tasks[name], advance)

    with bars:
        result = evaluate(EvalConfig(**kwargs), progress=progress)
    table = Table(title=f"eval: {result.n} riddles")
    for column in ("config", "model", "exact match", "contains", "char F1", "n"):
        left = column in ("config", "model")
        table.add_column(column, justify="left" if left else "right", overflow="fold")
    for r in result.results:
        scores = (f"{r['exact_match']:.1%}", f"{r['contains']:.1%}", f"{r['char_f1']:.3f}")
        table.add_row(r["config"], r["model"], *scores, str(r["n"]))
    console.print(table)
    errors = sum(r["errors"] for r in result.results)
    if errors:
        console.print(f"[yellow]{errors} requests failed; see 'error' in responses.jsonl[/]")
    console.print(f"wrote {', '.join(result.files)} to {result.output}")
