"""Every docstring example in curate/ runs, so an example that drifts from the code fails here.

Modules are found by walking the package; one that needs an optional extra that is not
installed (torch for training, starlette for the app, ...) is skipped, not failed.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "curate"
MODULES = sorted(
    ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
    if ">>>" in p.read_text(encoding="utf-8")
)


def test_the_walk_finds_the_modules_with_examples():
    assert {"curate.normalize", "curate.stages.ingest.encodings"} <= set(MODULES)


def missing_extra(exc: ImportError) -> str | None:
    """The outside package an ImportError lacks (an extra not installed), or None when the
    import broke inside curate (a renamed function): that is a failure, never a skip."""
    top = (exc.name or "").partition(".")[0]
    return top if top and top != "curate" else None


def test_a_broken_import_inside_curate_is_not_taken_for_a_missing_extra():
    assert missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch")) == "torch"
    assert missing_extra(ImportError("cannot import name 'x'", name="curate.normalize")) is None
    assert missing_extra(ImportError("cannot import name 'x'")) is None


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra, e.g. `pip install curate[train]`
        if missing_extra(exc) is None:
            raise
        pytest.skip(f"{name} needs {missing_extra(exc)}")
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
