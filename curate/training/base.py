"""Training config, result and preset resolution shared by both backends (local, siliconflow).

A `TrainConfig` holds what the user asked for: hyperparameters left as None mean "take the
preset's value". `resolve(config)` fills them from the preset (flag > preset), fills the
defaults that depend on other fields (name, output, model) and checks every value.
Backends receive only resolved configs.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from curate.endpoint import SILICONFLOW_KEY_ENV, SILICONFLOW_URL
from curate.errors import ConfigError, CurateError
from curate.files import tomllib

# backend name -> the module with its `run(config)`, imported only when used
BACKENDS = {"local": "curate.training.local", "siliconflow": "curate.training.siliconflow"}
BACKEND_NAMES = tuple(BACKENDS)
# The hyperparameters a preset sets; every other field comes from flags or defaults only.
HYPERPARAMS = (
    "lr",
    "epochs",
    "batch_size",
    "grad_accum",
    "max_seq_len",
    "lora_rank",
    "lora_alpha",
    "lora_dropout",
)
# SiliconFlow console presets (guide section 3), mirrored by train/presets/*.toml; a test
# checks they agree. Used when curate is installed without the repository's train/ folder.
BUILTIN_PRESETS: dict[str, dict[str, float | int]] = {
    "standard": dict(
        lr=1e-4,
        epochs=3,
        batch_size=8,
        lora_rank=8,
        lora_alpha=32,
        lora_dropout=0.05,
        max_seq_len=4096,
        grad_accum=1,
    ),
    "quality": dict(
        lr=1e-4,
        epochs=5,
        batch_size=16,
        lora_rank=16,
        lora_alpha=64,
        lora_dropout=0.1,
        max_seq_len=4096,
        grad_accum=1,
    ),
    "light": dict(
        lr=1e-4,
        epochs=2,
        batch_size=8,
        lora_rank=4,
        lora_alpha=16,
        lora_dropout=0.05,
        max_seq_len=4096,
        grad_accum=1,
    ),
}
PRESET_DIRS = (Path("train/presets"), Path(__file__).resolve().parents[2] / "train" / "presets")

# The console's documented ranges (reference/siliconflow.md section 3): (low, high), inclusive.
SILICONFLOW_BOUNDS: dict[str, tuple[float, float]] = {
    "lr": (0.0, 0.1),
    "epochs": (1, 10),
    "batch_size": (1, 32),
    "max_seq_len": (1, 4096),
    "lora_rank": (1, 64),
    "lora_alpha": (1, 128),
    "lora_dropout": (0.0, 1.0),
}
# Sanity ranges for the local backend: it runs any value the hardware can hold.
LOCAL_BOUNDS: dict[str, tuple[float, float]] = {
    "lr": (0.0, 1.0),
    "epochs": (1, 100_000),
    "batch_size": (1, 1 << 16),
    "grad_accum": (1, 1 << 16),
    "max_seq_len": (8, 1 << 20),
    "lora_rank": (1, 4096),
    "lora_alpha": (1e-6, 1 << 16),
    "lora_dropout": (0.0, 0.99),
    "seed": (0, 2**32 - 1),
}
DEFAULT_SILICONFLOW_MODEL = "Qwen/Qwen2.5-7B-Instruct"
DEFAULT_DATA = Path("processed/export/jsonl")  # `curate export --format jsonl` default OUT
RUNS_DIR = Path("train/runs")
# The oldest releases the local trainer works with; pyproject.toml's train extra says the same.
TRAIN_FLOORS = {"torch": (2, 4), "transformers": (5, 0), "peft": (0, 17), "accelerate": (1, 1)}
TRAIN_EXTRA = (
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "safetensors",
    "tokenizers",
    "matplotlib",
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything `curate train` accepts, for both backends (None = preset or derived)."""

    backend: str = "local"
    model: str | None = None  # local: folder or hub id (required); siliconflow: base model
    data: Path = DEFAULT_DATA  # export dir with train-*.jsonl and validation-*.jsonl
    output: Path | None = None  # default train/runs/<name>
    name: str | None = None  # run name; siliconflow: the console task name
    preset: str = "standard"  # standard | quality | light | path to a .toml
    # Hyperparameters: None takes the preset's value.
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    grad_accum: int | None = None
    max_seq_len: int | None = None
    lora_rank: int | None = None
    lora_alpha: float | None = None
    lora_dropout: float | None = None
    target_modules: tuple[str, ...] | None = None  # None: every linear layer but the head
    seed: int = 42
    # local backend
    resume: bool = False
    force_resume: bool = False  # resume although flags differ from the checkpoint's run
    merge: bool = False
    gradient_checkpointing: bool | None = None  # None: on with a CUDA GPU, off on CPU
    # siliconflow backend
    base_url: str = SILICONFLOW_URL
    api_key_env: str = SILICONFLOW_KEY_ENV
    dry_run: bool = False
    attach: str | None = None  # ft:LoRA/... model id copied from the console
    wait: bool = False  # with attach: poll until the model answers
    wait_timeout: float = 1800.0  # seconds --wait polls before giving up
    max_wait: float = 300.0  # seconds of retry waits (Retry-After, backoff) in all
    own_validation: bool = False  # upload the export's validation split instead of the 10%

    def to_dict(self) -> dict:
        """JSON-ready dict (paths as strings, tuples as lists)."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, Path):
                out[key] = str(value)
            elif isinstance(value, tuple):
                out[key] = list(value)
        return out


@dataclass(frozen=True)
class TrainResult:
    """What a backend did: numbers to print, files written, next steps for the user."""

    backend: str
    output: Path
    config: TrainConfig
    metrics: dict[str, float | int | str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    reporting: bool = True  # False in the other processes of a multi-GPU run: they print nothing


def load_preset(preset: str) -> dict[str, float | int]:
    """The preset's hyperparameters: a path to a .toml, a name in train/presets, or built in."""
    candidates = (
        [Path(preset)] if preset.endswith(".toml") else [d / f"{preset}.toml" for d in PRESET_DIRS]
    )
    for path in candidates:
        if path.is_file():
            with open(path, "rb") as f:
                try:
                    values = tomllib.load(f)
                except tomllib.TOMLDecodeError as exc:
                    raise ConfigError(f"preset {path} is not valid TOML: {exc}") from None
            unknown = sorted(set(values) - set(HYPERPARAMS))
            if unknown:
                raise ConfigError(f"preset {path}: unknown keys {unknown}; known: {HYPERPARAMS}")
            return values
    if preset.endswith(".toml"):
        raise ConfigError(f"preset file {preset} not found")
    if preset in BUILTIN_PRESETS:
        return dict(BUILTIN_PRESETS[preset])
    raise ConfigError(
        f"unknown preset {preset!r}; use one of {sorted(BUILTIN_PRESETS)} or a .toml file"
    )


def flag(name: str) -> str:
    """The CLI flag of a config field: batch_size -> --batch-size."""
    return "--" + name.replace("_", "-")


def check_bounds(config: TrainConfig, bounds: dict[str, tuple[float, float]], where: str) -> None:
    """Raise ConfigError naming the flag when a value lies outside `bounds`."""
    for name, (low, high) in bounds.items():
        value = getattr(config, name)
        if value is not None and not (low <= value <= high):
            raise ConfigError(f"{flag(name)} {value} is outside {where}'s range {low}-{high}")
    if config.lr is not None and config.lr <= 0:
        raise ConfigError(f"--lr must be positive, got {config.lr}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.rstrip("/").split("/")[-1]).strip("-") or "run"


def resolve(config: TrainConfig) -> TrainConfig:
    """Fill preset values (flag > preset), model, name and output; check every value."""
    if config.backend not in BACKEND_NAMES:
        raise ConfigError(f"unknown backend {config.backend!r}; use one of {BACKEND_NAMES}")
    preset = load_preset(config.preset)
    filled = {k: preset.get(k) for k in HYPERPARAMS if getattr(config, k) is None}
    model = config.model
    if model is None and config.backend == "siliconflow":
        model = DEFAULT_SILICONFLOW_MODEL
    if model is None:
        raise ConfigError("--model is required for --backend local (a folder or a hub id)")
    name = config.name or f"{_slug(model)}-{_slug(config.preset.removesuffix('.toml'))}"
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ConfigError(f"--name {name!r}: use letters, digits, '.', '_' and '-' only")
    output = config.output or RUNS_DIR / name
    resolved = dataclasses.replace(config, model=model, name=name, output=output, **filled)
    missing = [flag(k) for k in HYPERPARAMS if getattr(resolved, k) is None]
    if missing:
        raise ConfigError(f"preset {config.preset!r} sets no {missing}; pass them as flags")
    check_bounds(resolved, LOCAL_BOUNDS, "the local trainer")
    return resolved


def check_versions() -> None:
    """Refuse, at start-up, training packages older than the code needs (pyproject's floors).

    transformers 4.x would fail late, or worse run wrong: it reads warmup_steps=0.03 as zero
    steps (no warmup, silently), and older releases take no `dtype=` in from_pretrained.
    """
    from importlib.metadata import PackageNotFoundError, version

    old = []
    for name, floor in TRAIN_FLOORS.items():
        try:
            found = version(name)
        except PackageNotFoundError:
            continue  # a missing package is missing_extra's to explain
        numbers = re.match(r"(\d+)\.(\d+)", found)
        if numbers and tuple(map(int, numbers.groups())) < floor:
            old.append(f"{name} {found} (needs {'.'.join(map(str, floor))} or newer)")
    if old:
        raise CurateError(
            f"the local trainer needs newer packages: {', '.join(old)}; run "
            "pip install -U 'curate[train]' (in its own virtual environment if another tool "
            "pins transformers 4.x)"
        )


def missing_extra(exc: ImportError) -> CurateError | None:
    """A clear error for a missing training dependency, or None if `exc` is something else."""
    top = (exc.name or "").split(".")[0]
    if top not in TRAIN_EXTRA:
        return None
    return CurateError(
        f"training needs the optional package {top!r}, which is not installed; "
        "install the training extra: pip install 'curate[train]'"
    )
