"""What dedupe refuses before it starts: impossible flags, and an ingested stage that
`curate ingest` never writes (edited by hand together with its manifest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from curate import io
from curate.errors import ConfigError, InputError
from curate.stages.dedupe import minhash

CONFLICT_POLICIES = ("keep", "survivor")
# MinHash permutations: below 16 LSH has too few bands x rows to place its threshold; above
# 1024 memory runs away for no gain (signatures take num_perm x rows x 4 bytes, and tuning LSH
# with lsh_params takes 0.4 GB at 1024 permutations, 1.7 GB and 11 s at 4096).
MIN_PERM, MAX_PERM = 16, 1024


def check_config(config) -> None:
    """Refuse impossible flags (a `DedupeConfig`) before reading anything."""
    if config.on_conflict not in CONFLICT_POLICIES:
        raise ConfigError(f"--on-conflict must be one of {CONFLICT_POLICIES}")
    if not 1 <= config.ngram <= minhash.MAX_N:
        raise ConfigError(f"--ngram must be between 1 and {minhash.MAX_N}")
    for name in (
        "lsh_threshold",
        "near_threshold",
        "conflict_threshold",
        "content_threshold",
        "specific_content",
        "specific_alone",
        "glyph_conflict_threshold",
        "glyph_overlap",
    ):
        if not 0 < getattr(config, name) <= 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be in (0, 1]")
    for name in ("variant_threshold", "variant_slope"):  # NaN would compare false everywhere
        if not np.isfinite(getattr(config, name)):
            raise ConfigError(f"--{name.replace('_', '-')} must be a finite number")
    if config.variant_min_shared < 0:
        raise ConfigError("--variant-min-shared must be 0 or more")
    if not 0 <= config.seed < 2**32:  # numpy's RandomState draws the permutations
        raise ConfigError("the MinHash seed must be between 0 and 2**32 - 1")
    if not MIN_PERM <= config.num_perm <= MAX_PERM:
        raise ConfigError(
            f"--num-perm must be between {MIN_PERM} and {MAX_PERM} (memory grows with it)"
        )


def check_input(df: pl.DataFrame, processed: Path) -> pl.DataFrame:
    """The ingested records, if their ids, questions and answers are text in every row (a
    file edited by hand and its manifest with it may not be). Free: the null counts are
    kept with the columns. Unique ids are not checked: at 1M that costs 0.1 s a run."""
    for name in ("id", "question", "answer"):
        if df.schema.get(name) != pl.String or df[name].has_nulls():
            problem = f"column {name!r} is missing, not text, or has empty cells"
            break
    else:
        return df
    raise InputError(
        f"{io.stage_path(processed, 'ingested')}: {problem}, which `curate ingest` never "
        f"writes; rerun `curate ingest --processed {processed}`"
    )
