"""`curate train` and `curate eval`: the commands that touch models, registered by cli.py.

Heavy libraries (torch, transformers, peft) are imported inside the commands only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from curate.cli.options import field_option, with_options
from curate.errors import CurateError
from curate.evaluation.config import EvalConfig
from curate.training.base import BACKEND_NAMES, DEFAULT_SILICONFLOW_MODEL, TrainConfig
from curate.training.demo import ARCHS

_PRESET = "[default: from --preset]"


def _train(name: str, *decls: str, **attrs) -> Callable:
    return field_option(TrainConfig, name, *decls, **attrs)


# Unset hyperparameters come from --preset.
_TRAIN_OPTIONS = [
    _train("backend", type=click.Choice(BACKEND_NAMES), help="Where to train."),
    _train(
        "model",
        help="Local folder or hub id (local, required); base model (siliconflow)  "
        f"[default for siliconflow: {DEFAULT_SILICONFLOW_MODEL}]",
    ),
    _train("data", help="Export folder with train-*.jsonl and validation-*.jsonl."),
    _train("output", help="Output dir  [default: train/runs/NAME]"),
    _train("name", help="Run name (siliconflow: the console task name)."),
    _train("preset", help="standard | quality | light | FILE.toml"),
    _train("epochs", help=_PRESET),
    _train("lr", help=_PRESET),
    _train("batch_size", help=_PRESET),
    _train("grad_accum", help=_PRESET),
    _train("max_seq_len", help=_PRESET),
    _train("lora_rank", help=_PRESET),
    _train("lora_alpha", help=_PRESET),
    _train("lora_dropout", help=_PRESET),
    # One comma-separated value on the command line; a tuple in TrainConfig.
    _train(
        "target_modules",
        type=str,
        multiple=False,
        help="Comma-separated  [default: all linear layers]",
    ),
    _train("seed", help="Seed of initialization and data order."),
    _train("resume", help="Continue from the last checkpoint."),
    _train("force_resume", help="Resume even if flags differ from the checkpoint's run."),
    _train("merge", help="Also write the adapter merged into a full model."),
    _train(
        "gradient_checkpointing",
        "--gradient-checkpointing/--no-gradient-checkpointing",
        help="Trade compute for GPU memory  [default: on with a GPU, off on CPU]",
    ),
    _train("base_url", help="siliconflow: the API's base URL."),
    _train("api_key_env", help="Environment variable holding the API key."),
    _train(
        "dry_run",
        help="siliconflow: check the data and parameters against its rules, write the "
        "upload file and print the console steps; no upload, no API key needed.",
    ),
    _train("attach", metavar="MODEL_ID", help="siliconflow: verify an ft:LoRA/... model id."),
    _train("wait", help="With --attach: poll until the model answers."),
    _train("wait_timeout", help="Seconds --wait polls before giving up."),
    _train("max_wait", help="Seconds of retry waits (Retry-After, backoff) in all."),
    _train(
        "own_validation",
        help="siliconflow: upload the export's validation split instead of letting the "
        "console hold out 10% of train.",
    ),
]


@click.command()
@with_options(_TRAIN_OPTIONS)
def train(**kwargs) -> None:
    """Fine-tune a LoRA adapter on an export: locally, or on SiliconFlow."""
    from rich.console import Console

    from curate.training import train as run_train

    modules = kwargs.pop("target_modules")
    targets = tuple(m.strip() for m in modules.split(",") if m.strip()) if modules else None
    result = run_train(TrainConfig(**kwargs, target_modules=targets))
    if not result.reporting:  # another process of a multi-GPU run: the main one prints
        return
    console = Console()
    console.print(f"[bold]train[/] ({result.backend}) -> {result.output}")
    for key, value in [*result.metrics.items(), *result.files.items()]:
        console.print(f"  {key}: {value}")
    for note in result.notes:
        console.print(note, soft_wrap=True, markup=False, highlight=False)


@click.command(name="demo-model")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--arch", type=click.Choice(ARCHS), default=ARCHS[0], show_default=True)
@click.option("--data", type=click.Path(path_type=Path), help="Also write the demo riddles here.")
def demo_model(folder: Path, arch: str, data: Path | None) -> None:
    """Build the tiny random model the README's CPU examples use (no download).

    With --data, also write its 16 riddles as an export (12 to train on, 4 held out).
    """
    from curate.training.base import missing_extra
    from curate.training.demo import build_tiny_model, write_demo_export

    try:
        build_tiny_model(folder, arch)
    except ImportError as exc:
        raise (missing_extra(exc) or exc) from None
    click.echo(f"demo-model ({arch}) -> {folder}")
    if data is not None:
        click.echo(f"demo riddles -> {write_demo_export(data)}")


def _eval(name: str, *decls: str, **attrs) -> Callable:
    return field_option(EvalConfig, name, *decls, **attrs)


# field -> help; `curate ask` takes the ones that say how to reach the models.
_EVAL_HELP = {
    "data": "Export folder holding the split.",
    "split": "Split to evaluate on.",
    "limit": "Only the first N riddles of the split.",
    "system_prompt": "Adds the system_prompt config; 'default': a riddle expert.",
    "output": "Output dir  [default: train/runs/eval-NAME]",
    "endpoint": "OpenAI-compatible base URL, e.g. https://api.siliconflow.cn/v1",
    "base_model": "Endpoint: the model id before fine-tuning.",
    "finetuned_model": "Endpoint: the fine-tuned id (ft:LoRA/...).",
    "api_key_env": "Environment variable holding the API key.",
    "no_key": "Send no key (on 127.0.0.1 a missing key is fine).",
    "concurrency": "Requests in flight.",
    "max_wait": "Endpoint: seconds of retry waits (Retry-After, backoff) in all.",
    "timeout": "Endpoint: seconds a request may wait for its answer, then it is retried.",
    "model": "Local: a transformers model folder (or hub id).",
    "adapter": "Local: the LoRA adapter folder (adds finetuned).",
    "batch_size": "Local: batch size.",
    "max_tokens": "New tokens per reply: an answer plus a few sentences.",
    "examples": "Riddles where the configs disagree, shown in eval.md.",
    "judge_model": "Also ask this model whether each reply gives the answer (own column).",
    "judge_endpoint": "The judge's endpoint  [default: --endpoint]",
    "train_record": "Fine-tuned id: the `curate train` output folder, to refuse overlap.",
    "allow_overlap": "Evaluate even on riddles the model was trained on (recorded).",
}
_EVAL_OPTIONS = [_eval(name, help=text) for name, text in _EVAL_HELP.items()]
_ASK_FIELDS = (
    *("data", "system_prompt", "endpoint", "base_model", "finetuned_model", "api_key_env"),
    *("no_key", "max_wait", "timeout", "model", "adapter", "max_tokens"),
)


@click.command(name="eval")
@with_options(_EVAL_OPTIONS)
def eval_(**kwargs) -> None:
    """Compare base, base + system prompt and fine-tuned on held-out riddles.

    Either an OpenAI-compatible endpoint (--endpoint URL --base-model ID [--finetuned-model
    ID]; key from the variable --api-key-env names) or a local model (--model PATH [--adapter DIR]).
    Writes eval.json, eval.md and responses.jsonl to --output.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from curate.evaluation import DEFAULT_SYSTEM_PROMPT, evaluate
    from curate.evaluation.report import notes, significance_sentence

    if kwargs["system_prompt"] == "default":
        kwargs["system_prompt"] = DEFAULT_SYSTEM_PROMPT
    console = Console()
    bars = Progress(TextColumn("{task.description:>13}"), BarColumn(), MofNCompleteColumn())
    tasks: dict[str, object] = {}

    def progress(name: str, advance: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bars.add_task(name, total=total)
        bars.advance(tasks[name], advance)

    config = EvalConfig(**kwargs)
    try:
        with bars:
            result = evaluate(config, progress=progress)
    except (CurateError, KeyboardInterrupt):
        _say_kept(config)
        raise
    console.print(_scores_table(result))
    for c in result.comparisons:
        console.print(significance_sentence(c, result.n), markup=False, highlight=False)
    for note in notes(result.results):
        console.print(note, style="yellow", markup=False, highlight=False)
    tuned = any(r["config"] == "finetuned" for r in result.results)
    if tuned and not result.overlap.get("checked"):  # eval.md says so; the terminal must too
        note = f"overlap with the training data not checked: {result.overlap['reason']}"
        hint = "pass --train-record RUN_DIR" if kwargs["finetuned_model"] else "see eval.md"
        console.print(f"{note}; {hint}", style="yellow", markup=False, highlight=False)
    if result.overlap.get("overlapping"):
        n = result.overlap["overlapping"]
        note = f"{n} riddles were trained on (--allow-overlap): finetuned scores are overstated"
        console.print(f"[yellow]{note}[/]")
    reused, needed = result.reused
    if reused:
        console.print(f"reused {reused} of {needed} replies from an interrupted run")
    console.print(f"wrote {', '.join(result.files)} to {result.output}")


def _say_kept(config: EvalConfig) -> None:
    """After a failed or interrupted eval: the replies received so far are not lost."""
    from curate.evaluation import PARTIAL, default_output

    kept = (config.output or default_output(config)) / PARTIAL
    if kept.is_file():
        n = kept.read_bytes().count(b"\n")
        click.echo(f"{n} replies kept in {kept}; the same command asks only the rest", err=True)


def _scores_table(result):
    """Scores with 95% intervals and median reply length, one row per configuration."""
    from rich.table import Table

    from curate.evaluation.report import rate

    judged = "judge" in result.results[0]
    table = Table(title=f"eval: {result.n} riddles (95% intervals)")
    columns = ["config", "model", "exact match", "contains", "char F1"]
    columns += ["judge"] if judged else []
    for column in [*columns, "median chars", "n"]:
        left = column in ("config", "model")
        table.add_column(column, justify="left" if left else "right", overflow="fold")
    for r in result.results:
        cells = [r["config"], r["model"], rate(r, "exact_match"), rate(r, "contains")]
        cells += [f"{r['char_f1']:.3f}", *([rate(r, "judge")] if judged else [])]
        table.add_row(*cells, f"{r['median_reply_chars']:g}", str(r["n"]))
    return table


@click.command()
@click.argument("question")
@with_options([_eval(name, help=_EVAL_HELP[name]) for name in _ASK_FIELDS])
def ask(question: str, **kwargs) -> None:
    """Ask one riddle of every configuration and show the replies side by side.

    Takes eval's model options: `curate ask "什么门永远关不上？" --endpoint URL --base-model ID
    --finetuned-model ID --system-prompt default`, or --model PATH --adapter DIR.
    """
    from rich.console import Console
    from rich.table import Table

    from curate.evaluation import DEFAULT_SYSTEM_PROMPT
    from curate.evaluation.ask import ask as run_ask

    if kwargs["system_prompt"] == "default":
        kwargs["system_prompt"] = DEFAULT_SYSTEM_PROMPT
    replies = run_ask(EvalConfig(**kwargs), question)
    table = Table(title=question, show_lines=True)
    table.add_column("", style="bold")
    for row in replies:
        table.add_column(f"{row['config']}\n{row['model']}", overflow="fold")
    table.add_row("reply", *[row.get("error") or row["response"] or "(empty)" for row in replies])
    table.add_row("answer", *[row["answer"] for row in replies])
    Console().print(table)
