"""Train and Eval pages: the SiliconFlow hand-off, local LoRA training, the comparison table.

Every action is a `curate train` / `curate eval` subprocess (jobs.py); this module only builds
their command lines and reads what they wrote (siliconflow.json, metrics.json, eval.json).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from curate.endpoint import SILICONFLOW_URL
from curate.errors import InputError
from curate.ui import files
from curate.ui.jobs import curate_command
from curate.ui.web import guarded, render, start_job, state

PRESETS = ("standard", "quality", "light")
DEFAULT_BASE = "Qwen/Qwen2.5-7B-Instruct"
NAME = re.compile(r"^[\w.\-]{1,64}$")
# Optional local hyperparameters: form field -> flag.
HYPER = {
    "epochs": "--epochs",
    "lr": "--lr",
    "batch_size": "--batch-size",
    "lora_rank": "--lora-rank",
}
METRICS = ("exact_match", "contains", "char_f1")


def _runs(root: Path) -> Path:
    return root / "train" / "runs"


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    except ValueError:
        return None


def _name(form) -> str:
    name = (form.get("name") or "").strip()
    if not NAME.match(name):
        raise InputError("run name: letters, digits, '.', '-' or '_' only (up to 64)")
    return name


def _data(st, form) -> str:
    return files.rel(st.root, files.inside(st.root, form.get("data") or "processed/export/jsonl"))


async def train_page(request: Request):
    st = state(request)
    runs = _runs(st.root)
    handoffs, local = [], []
    for folder in sorted(p for p in runs.glob("*") if p.is_dir()) if runs.is_dir() else []:
        if record := _read(folder / "siliconflow.json"):
            handoffs.append({"name": folder.name, "record": record})
        if metrics := _read(folder / "metrics.json"):
            plot = folder / "loss.png"
            local.append(
                {
                    "name": folder.name,
                    "summary": metrics.get("summary", {}),
                    "plot": f"{folder.name}/loss.png" if plot.exists() else None,
                }
            )
    return render(
        request,
        "train.html",
        key_source=st.key_source(),
        key_env=st.config.api_key_env,
        presets=PRESETS,
        handoffs=handoffs,
        local=local,
        default_base=DEFAULT_BASE,
        default_url=handoffs[-1]["record"].get("base_url", SILICONFLOW_URL)
        if handoffs
        else SILICONFLOW_URL,
    )


@guarded
async def set_key(request: Request, form):
    st = state(request)
    key = (form.get("api_key") or "").strip()
    st.typed_key = key or None  # empty: forget it
    return JSONResponse({"key": st.key_source() or "none"})


@guarded
async def siliconflow(request: Request, form):
    st = state(request)
    name, action = _name(form), form.get("action", "validate")
    output = f"train/runs/{name}"
    url = (form.get("base_url") or SILICONFLOW_URL).strip()
    args = ["train", "--backend", "siliconflow", "--output", output, "--base-url", url]
    args += ["--api-key-env", st.config.api_key_env]
    if action == "attach":
        model_id = (form.get("model_id") or "").strip()
        if not model_id:
            raise InputError("paste the fine-tuned model id (ft:LoRA/...) from the console")
        args += ["--attach", model_id]
    else:
        args += [
            "--name",
            name,
            "--data",
            _data(st, form),
            "--preset",
            form.get("preset", "standard"),
        ]
        args += ["--model", (form.get("model") or DEFAULT_BASE).strip()]
        if action == "validate":
            args.append("--dry-run")
        elif not st.api_key():
            raise InputError(f"no API key: set ${st.config.api_key_env} or type it in above")
    return start_job(request, f"siliconflow {action} {name}", [curate_command(*args)], "train")


@guarded
async def local_train(request: Request, form):
    st = state(request)
    name = _name(form)
    model = (form.get("model") or "").strip()
    if not model:
        raise InputError("give the model: a local folder or a hub id")
    preset = form.get("preset", "standard")
    args = ["train", "--backend", "local", "--model", model, "--data", _data(st, form)]
    args += ["--name", name, "--output", f"train/runs/{name}", "--preset", preset]
    for field, flag in HYPER.items():
        if value := (form.get(field) or "").strip():
            args += [flag, value]
    return start_job(request, f"train local {name}", [curate_command(*args)], "train")


# -- Eval --------------------------------------------------------------------------------


def _disagreements(path: Path, limit: int = 50) -> list[dict]:
    """Riddles on which the configs' exact-match verdicts differ (from responses.jsonl)."""
    if not path.exists():
        return []
    by_id: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            item = by_id.setdefault(
                row["id"],
                {
                    "question": row.get("question", ""),
                    "reference": row.get("reference", ""),
                    "answers": {},
                },
            )
            item["answers"][row["config"]] = row
    out = [
        r for r in by_id.values() if len({a.get("exact_match") for a in r["answers"].values()}) > 1
    ]
    return out[:limit]


def _interval(result: dict, metric: str):
    """(low, high) if eval.json gives one for this metric, in any of its likely shapes."""
    for candidate in (
        result.get(f"{metric}_ci"),
        (result.get("intervals") or {}).get(metric),
        (result.get("ci") or {}).get(metric),
        result.get(metric) if isinstance(result.get(metric), dict) else None,
    ):
        if isinstance(candidate, dict):
            candidate = (candidate.get("low"), candidate.get("high"))
        if isinstance(candidate, (list, tuple)) and len(candidate) == 2 and None not in candidate:
            return tuple(candidate)
    return None


def _value(result: dict, metric: str):
    value = result.get(metric)
    if isinstance(value, dict):
        value = value.get("value", value.get("rate", value.get("mean")))
    return value


async def eval_page(request: Request):
    st = state(request)
    runs = _runs(st.root)
    found = sorted(p.parent.name for p in runs.glob("*/eval.json")) if runs.is_dir() else []
    chosen = request.query_params.get("run") or (found[-1] if found else "")
    report = None
    if chosen in found:
        data = _read(runs / chosen / "eval.json") or {}
        report = {
            "name": chosen,
            "rows": [
                {
                    "config": r.get("config"),
                    "model": r.get("model"),
                    "n": r.get("n"),
                    "errors": r.get("errors", 0),
                    "metrics": {m: (_value(r, m), _interval(r, m)) for m in METRICS},
                }
                for r in data.get("results", [])
            ],
            "comparisons": data.get("comparisons") or [],
            "params": data.get("params", {}),
            "disagree": _disagreements(runs / chosen / "responses.jsonl"),
        }
    return render(
        request,
        "eval.html",
        runs=found,
        chosen=chosen,
        report=report,
        metrics=METRICS,
        default_url=SILICONFLOW_URL,
        default_base=DEFAULT_BASE,
    )


@guarded
async def run_eval(request: Request, form):
    st = state(request)
    name = _name(form)
    args = ["eval", "--data", _data(st, form), "--output", f"train/runs/{name}"]
    if (form.get("system_prompt") or "").strip():
        args += ["--system-prompt", form["system_prompt"].strip()]
    if limit := (form.get("limit") or "").strip():
        args += ["--limit", limit]
    if model := (form.get("model") or "").strip():
        args += ["--model", model]
        if adapter := (form.get("adapter") or "").strip():
            args += ["--adapter", files.rel(st.root, files.inside(st.root, adapter))]
    else:
        args += ["--endpoint", (form.get("endpoint") or SILICONFLOW_URL).strip()]
        args += ["--base-model", (form.get("base_model") or DEFAULT_BASE).strip()]
        args += ["--api-key-env", st.config.api_key_env]
        if ft := (form.get("finetuned_model") or "").strip():
            args += ["--finetuned-model", ft]
    return start_job(request, f"eval {name}", [curate_command(*args)], "eval")


def routes() -> list[Route]:
    return [
        Route("/train", train_page),
        Route("/train/key", set_key, methods=["POST"]),
        Route("/train/siliconflow", siliconflow, methods=["POST"]),
        Route("/train/local", local_train, methods=["POST"]),
        Route("/eval", eval_page),
        Route("/eval/run", run_eval, methods=["POST"]),
    ]
