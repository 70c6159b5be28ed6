"""Resuming a local run: the checkpoint to continue from, and a check that the flags agree.

A checkpoint holds the optimizer, scheduler and adapter of the run that wrote it: a different
--lr would be silently overridden by the saved scheduler, a different --lora-rank would not
even load. So every flag that changes the run is compared with the run's train_config.json,
and a difference is an error naming the flags; --force-resume continues with the
checkpoint's values and records the ignored ones in train_config.json.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from transformers.trainer_utils import get_last_checkpoint

from curate.errors import ConfigError, InputError
from curate.training.base import HYPERPARAMS, TrainConfig, flag

CONFIG_FILE = "train_config.json"  # not config.json: loaders would take the folder for a model
# The fields that change what the run computes (data order included).
COMPARED = ("model", *HYPERPARAMS, "target_modules", "seed")
IGNORED_KEY = "resume_ignored"
DATA_KEY = "data_sha256"  # shard name -> sha256 of the export the run started on


def checkpoint(config: TrainConfig) -> tuple[TrainConfig, str | None, dict]:
    """(config to train with, checkpoint or None, {flag: ignored value}) for `config.output`."""
    out = Path(config.output)
    folder = out / "checkpoints"
    last = get_last_checkpoint(str(folder)) if folder.is_dir() else None
    if config.resume and last is None:
        raise InputError(f"--resume: no checkpoint in {folder}; run without --resume to start")
    if not config.resume and last is not None:
        raise ConfigError(
            f"{folder} holds checkpoints of an earlier run; pass --resume to continue it, "
            "or remove that folder (or pick another --output) to start again"
        )
    if last is None:
        return config, None, {}
    saved = _saved(out / CONFIG_FILE)
    if saved is not None and DATA_KEY in saved:
        _check_data(config, saved[DATA_KEY])
    if saved is None:
        if config.force_resume:
            return config, last, {}
        raise ConfigError(
            f"--resume: {out / CONFIG_FILE} is missing, so the checkpoint's settings are "
            "unknown; pass --force-resume to continue with the flags given now"
        )
    asked = config.to_dict()
    differ = [name for name in COMPARED if saved.get(name) != asked[name]]
    if not differ:
        return config, last, {}
    shown = ", ".join(f"{flag(n)} {_show(asked[n])} (the run used {_show(saved.get(n))})"
                      for n in differ)  # fmt: skip
    if not config.force_resume:
        raise ConfigError(
            f"--resume: {shown}; a checkpoint continues the run that wrote it, so pass the "
            "same values, or --force-resume to continue with the run's values"
        )
    values = {n: tuple(saved[n]) if isinstance(saved[n], list) else saved[n] for n in differ}
    ignored = {flag(n): asked[n] for n in differ}
    return dataclasses.replace(config, **values), last, ignored


def write_config(config: TrainConfig, ignored: dict) -> Path:
    """train_config.json: the resolved config, with the flags --force-resume ignored."""
    from curate.files import write_json

    path = Path(config.output) / CONFIG_FILE
    record = config.to_dict()
    record[DATA_KEY] = data_digest(config.data)
    if ignored:
        record[IGNORED_KEY] = ignored
    write_json(path, record)
    return path


def data_digest(data: Path) -> dict[str, str]:
    """The sha256 of each train and validation shard of the export, by file name."""
    from curate.files import sha256_file
    from curate.verify import split_files

    shards = split_files(data, "train") + split_files(data, "validation")
    return {p.name: sha256_file(p) for p in shards}


def _check_data(config: TrainConfig, saved: dict[str, str]) -> None:
    now = data_digest(config.data)
    if now == saved:
        return
    changed = sorted(n for n in saved.keys() & now.keys() if saved[n] != now[n])
    parts = [f"changed: {', '.join(changed)}"] if changed else []
    if gone := sorted(saved.keys() - now.keys()):
        parts.append(f"missing: {', '.join(gone)}")
    if new := sorted(now.keys() - saved.keys()):
        parts.append(f"new: {', '.join(new)}")
    raise ConfigError(
        f"--resume: the export in {config.data} is not the one the run started on "
        f"({'; '.join(parts)}); resume with that export (restore it, or pass its --data), "
        "or start a new run with another --output"
    )


def _saved(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        raise InputError(f"{path} is not valid JSON; restore it or start a new run") from None


def _show(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
