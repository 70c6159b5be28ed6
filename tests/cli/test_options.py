"""One source for each default: every command option takes its default from its config field."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

import curate
from curate import (
    DedupeConfig,
    EvalConfig,
    ExportConfig,
    IngestConfig,
    ReportConfig,
    RunConfig,
    TrainConfig,
    ValidateConfig,
)
from curate.cli import main
from curate.cli.options import field_default
from curate.engines import EngineConfig
from curate.errors import ConfigError
from curate.ui.config import UiConfig

# command -> the configs its options fill, first match wins (run's own fields first)
CONFIGS = {
    "ingest": (IngestConfig, EngineConfig),
    "dedupe": (DedupeConfig, EngineConfig),
    "export": (ExportConfig, EngineConfig),
    "validate": (ValidateConfig,),
    "report": (ReportConfig,),
    "run": (RunConfig, EngineConfig, IngestConfig, DedupeConfig, ExportConfig),
    "train": (TrainConfig,),
    "eval": (EvalConfig,),
    "ui": (UiConfig,),
}
PACKAGE = Path(__file__).resolve().parents[2] / "curate"


def _owner(command: str, name: str) -> type | None:
    for cls in CONFIGS[command]:
        if name in {f.name for f in dataclasses.fields(cls)}:
            return cls
    return None


@pytest.mark.parametrize("command", sorted(CONFIGS))
def test_every_option_default_is_its_config_fields(command):
    checked = []
    for param in main.commands[command].params:
        # A FieldOption says which field it is; any other option is matched by its name.
        cls = getattr(param, "config_field", (_owner(command, param.name),))[0]
        if cls is None or param.param_type_name != "option":  # SOURCES/FILES: none = default
            continue
        default = field_default(cls, param.name)
        assert cls in CONFIGS[command], (param.name, cls)
        if command == "run" and cls not in (RunConfig, EngineConfig):
            # Stage settings are None unless given (curate.toml's tables apply below them);
            # the help shows the stage config's default instead of a copy of it.
            assert param.default is None, param.name
            if default not in (None, ()):
                assert f"[default: {default}]" in param.help, param.name
        else:
            assert param.default == default, (param.name, param.default, default)
        checked.append(param.name)
    assert len(checked) >= 2, checked


def test_run_help_shows_the_stage_defaults_and_writes_none_by_hand():
    text = CliRunner().invoke(main, ["run", "--help"], terminal_width=200).output
    assert f"[default: {ExportConfig.val_fraction}]" in text
    assert f"[default: {IngestConfig.convert}]" in text
    source = (PACKAGE / "cli" / "data.py").read_text(encoding="utf-8")
    assert "[default: 0.1]" not in source and "default=0.1" not in source


def test_num_perm_is_bounded_and_the_help_says_why(project):
    help_text = CliRunner().invoke(main, ["dedupe", "--help"], terminal_width=200).output
    assert "16<=x<=1024" in help_text and "memory" in help_text.lower()
    result = CliRunner().invoke(main, ["dedupe", "--num-perm", "4096"])
    assert result.exit_code == 2 and "4096 is not in the range 16<=x<=1024" in result.output
    with pytest.raises(ConfigError, match="--num-perm must be between 16 and 1024"):
        curate.dedupe(DedupeConfig(num_perm=4096))


def _literals(value: str) -> list[str]:
    """Where `value` is written as a string literal in curate/ (docstrings aside)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == value:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


@pytest.mark.parametrize("value", ["SILICONFLOW_API_KEY", "https://api.siliconflow.cn/v1"])
def test_constants_are_spelled_once(value):
    assert len(_literals(value)) == 1, _literals(value)


def test_backend_names_are_defined_once():
    from curate.training import BACKENDS
    from curate.training.base import BACKEND_NAMES

    assert tuple(BACKENDS) == BACKEND_NAMES
    assert main.commands["train"].params[0].type.choices == BACKEND_NAMES
