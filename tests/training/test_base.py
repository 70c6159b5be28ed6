"""Presets, flag-over-preset resolution, bounds, and the `train` command's surface."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from click.testing import CliRunner

from curate.cli import main
from curate.errors import ConfigError
from curate.training.base import (
    BUILTIN_PRESETS,
    SILICONFLOW_BOUNDS,
    TrainConfig,
    check_bounds,
    load_preset,
    resolve,
)

PRESETS = Path(__file__).resolve().parents[2] / "train" / "presets"


@pytest.mark.parametrize("name", sorted(BUILTIN_PRESETS))
def test_preset_files_match_the_console_values(name):
    with open(PRESETS / f"{name}.toml", "rb") as f:
        assert tomllib.load(f) == BUILTIN_PRESETS[name]


def test_presets_are_the_siliconflow_console_schemes():
    table = {
        k: (
            v["lr"],
            v["epochs"],
            v["batch_size"],
            v["lora_rank"],
            v["lora_alpha"],
            v["lora_dropout"],
        )
        for k, v in BUILTIN_PRESETS.items()
    }
    assert table == {
        "standard": (1e-4, 3, 8, 8, 32, 0.05),
        "quality": (1e-4, 5, 16, 16, 64, 0.1),
        "light": (1e-4, 2, 8, 4, 16, 0.05),
    }


def test_flags_override_the_preset_and_the_rest_is_filled():
    config = resolve(TrainConfig(model="models/Qwen2.5-0.5B-Instruct", preset="quality", lr=2e-4))
    assert config.lr == 2e-4  # the flag wins
    assert (config.epochs, config.batch_size, config.lora_rank) == (5, 16, 16)  # the preset
    assert config.name == "Qwen2.5-0.5B-Instruct-quality"
    assert config.output == Path("train/runs/Qwen2.5-0.5B-Instruct-quality")


def test_siliconflow_has_a_default_base_model_and_local_needs_one():
    assert resolve(TrainConfig(backend="siliconflow")).model == "Qwen/Qwen2.5-7B-Instruct"
    with pytest.raises(ConfigError, match="--model is required"):
        resolve(TrainConfig(backend="local"))


def test_preset_from_a_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("lr = 0.001\nepochs = 1\n")
    config = resolve(
        TrainConfig(
            model="m",
            preset=str(path),
            batch_size=2,
            lora_rank=4,
            lora_alpha=8,
            lora_dropout=0.0,
            max_seq_len=128,
            grad_accum=1,
        )
    )
    assert (config.lr, config.epochs, config.name) == (0.001, 1, "m-mine")
    path.write_text("learning_rate = 0.001\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_preset(str(path))
    path.write_text("lr = 0.001\n")
    with pytest.raises(ConfigError, match="sets no.*--epochs"):
        resolve(TrainConfig(model="m", preset=str(path)))
    with pytest.raises(ConfigError, match="not found"):
        load_preset(str(tmp_path / "missing.toml"))


def test_unknown_preset_names_the_choices():
    with pytest.raises(ConfigError, match="light.*quality.*standard"):
        load_preset("turbo")


def test_bounds_name_the_flag_and_the_range():
    config = resolve(TrainConfig(backend="siliconflow", epochs=12))
    with pytest.raises(ConfigError, match=r"--epochs 12 is outside .*range 1-10"):
        check_bounds(config, SILICONFLOW_BOUNDS, "the SiliconFlow console")
    with pytest.raises(ConfigError, match="--lora-dropout"):
        resolve(TrainConfig(model="m", lora_dropout=1.5))
    with pytest.raises(ConfigError, match="--lr must be positive"):
        resolve(TrainConfig(model="m", lr=0.0))


def test_config_round_trips_to_json_types():
    d = resolve(TrainConfig(model="m", target_modules=("q_proj", "v_proj"))).to_dict()
    assert d["target_modules"] == ["q_proj", "v_proj"] and isinstance(d["data"], str)


def test_train_help_lists_both_backends_options():
    out = CliRunner().invoke(main, ["train", "--help"]).output
    for option in (
        "--backend",
        "--preset",
        "--lora-rank",
        "--resume",
        "--merge",
        "--gradient-checkpointing",
        "--dry-run",
        "--attach",
        "--own-validation",
    ):
        assert option in out


def test_cli_errors_read_well(project):
    result = CliRunner().invoke(main, ["train", "--backend", "local"])
    assert result.exit_code == 2 and "--model is required" in result.output
    result = CliRunner().invoke(main, ["train", "--model", "m", "--lora-rank", "0"])
    assert result.exit_code == 2 and "--lora-rank 0 is outside" in result.output


def test_importing_the_cli_does_not_import_torch():
    code = "import sys, curate.cli, curate.training; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_old_transformers_is_refused_at_start_up(project, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    old = {"transformers": "4.46.1", "peft": "0.13.2"}
    monkeypatch.setattr(importlib.metadata, "version", lambda name: old.get(name) or real(name))
    result = CliRunner().invoke(main, ["train", "--model", "any"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "transformers 4.46.1 (needs 5.0 or newer)" in result.output
    assert (
        "peft 0.13.2 (needs 0.17 or newer)" in result.output and "pip install -U" in result.output
    )


def without(names: tuple[str, ...], folder: Path) -> dict:
    """Environment for a Python that does not have `names` installed: `python -S` with a copy
    of site-packages made of links, minus those packages (their modules and dist-info)."""
    import site

    packages = Path(next(p for p in site.getsitepackages() if p.endswith("site-packages")))
    folder.mkdir()
    for entry in packages.iterdir():
        stem = entry.name.lstrip("_").split("-")[0].split(".")[0].lower()
        if not any(stem == n or stem.startswith(f"{n}_") for n in names):
            (folder / entry.name).symlink_to(entry)
    repo = Path(__file__).resolve().parents[2]  # the editable install's .pth is not read
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), str(folder)])}


@pytest.mark.slow
def test_training_runs_without_the_data_stage_libraries(tiny_model, riddle_export, project):
    """The GPU machine lacks polars and opencc (and datasets): `curate train` must not need them."""
    env = without(("polars", "opencc", "datasets"), project / "site")
    probe = "import importlib.util as u; print(u.find_spec('polars'), u.find_spec('opencc'))"
    check = subprocess.run([sys.executable, "-S", "-c", probe], env=env, capture_output=True,
                           text=True)  # fmt: skip
    assert check.stdout.split() == ["None", "None"], check.stderr[-2000:]
    args = ["train", "--model", str(tiny_model("qwen2")), "--epochs", "1", "--output", "run"]
    out = subprocess.run([sys.executable, "-S", "-m", "curate", *args], env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "train_records.txt was not written: it needs opencc" in out.stdout
    assert (project / "run" / "adapter_model.safetensors").is_file()
