"""The Ray engine: a stage's batches as Ray Data tasks, on a local Ray or a cluster.

Three primitives, each given the stage's own function (what to compute stays in the stage):
- `map_tasks(fn, tasks)`: one Ray Data `map_batches` call per task (a file, a byte range),
  results back in task order;
- `map_table(table, fn)`: `map_batches` over an Arrow table, batch by batch, in order;
- `map_group(table, batch_size, fn, keys, group_fn)`: `map_batches`, then a shuffle
  `groupby(keys).map_groups(group_fn)`.
Large read-only arrays go to the object store once (`share`) and are read zero-copy by every
task on a node (`shared`). A task whose worker dies is retried by Ray (Ray Core's default
`max_retries=3` for system failures); the driver commits only after every task is done.

Paths handed to tasks are absolute: on a cluster, the inputs and `--processed` must be on a
file system every node sees (NFS, a shared volume).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from curate.errors import ConfigError, CurateError
from curate.memory import one_heap, release_memory

NAME = "ray"
INSTALL = "pip install 'curate[ray]' (from a checkout: pip install -e '.[ray]')"
_cache: dict = {}  # per worker process: shared objects already fetched
# Extra `ray.init` arguments for a local Ray that a stage starts (its CPUs, an object store
# cap): set by whoever owns the process (bench/bench_scale.py), never by the library.
LOCAL_INIT: dict = {}
CONNECT_SECONDS = 10  # to open a connection to --ray-address before Ray is asked to join it


def require() -> None:
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise CurateError(
            f"--engine ray needs Ray Data, which is not installed: {INSTALL}"
        ) from None


@contextlib.contextmanager
def session(address: str | None = None, **init: object) -> Iterator[None]:
    """Ray for the block: the one already initialized in this process, else a new local Ray
    (`address` None) or the cluster at `address` ("auto", "host:port"), shut down after."""
    import ray

    if ray.is_initialized():
        yield
        return
    if address is not None:
        _reachable(address)
    init = {**LOCAL_INIT, **init} if address is None else init
    init.setdefault("include_dashboard", False)
    init.setdefault("logging_level", logging.ERROR)  # warnings about tokens, progress bars
    # No address: a new local Ray, as the flag's help says. ray.init(None) would first join
    # the last `ray start` head on this machine, and if that head died without `ray stop`,
    # hang for minutes on the dead cluster it left named in /tmp/ray. RAY_ADDRESS still counts.
    joined = address if address is not None else os.environ.get("RAY_ADDRESS") or "local"
    try:
        ray.init(address=joined, **init)
    except (ConnectionError, ValueError) as exc:
        raise ConfigError(f"cannot reach Ray at --ray-address {address}: {exc}") from None
    try:
        _quiet()
        yield
    finally:
        ray.shutdown()


def _reachable(address: str) -> None:
    """ConfigError unless `host:port` (or `ray://host:port`) takes a TCP connection: ray.init
    retries an address where nothing listens for minutes, printing only GCS warnings."""
    host, colon, port = address.removeprefix("ray://").rpartition(":")
    if not colon or not port.isdigit():
        return  # "auto", "local": Ray says itself when it finds nothing
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach Ray at --ray-address {address}: {exc.strerror or exc}; start it "
            f"there (ray start --head --port={port}), or leave --ray-address out for a local Ray"
        ) from None


def _quiet() -> None:
    from ray.data import DataContext

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # INFO per dataset, bar warnings
    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.execution_options.preserve_order = True


def share(obj: object):
    """Put `obj` in the object store once; tasks read it with `shared(ref)`."""
    import ray

    return ray.put(obj)


def shared(ref) -> object:
    """The object behind `ref`, fetched once per worker process (numpy arrays zero-copy)."""
    import ray

    key = ref.hex()
    if key not in _cache:
        _cache.clear()  # one stage's objects at a time
        _cache[key] = ray.get(ref)
    return _cache[key]


def map_tasks(fn: Callable[[object], object], tasks: list) -> list:
    """`[fn(t) for t in tasks]`, each task a Ray Data task; results in task order."""
    import ray.data

    if not tasks:
        return []
    _quiet()
    items = [{"i": n, "task": pickle.dumps(t)} for n, t in enumerate(tasks)]

    def apply(batch: dict) -> dict:
        out = [pickle.dumps(_outcome(fn, pickle.loads(t))) for t in batch["task"]]
        return {"i": batch["i"], "out": np.array(out, dtype=object)}

    ds = ray.data.from_items(items, override_num_blocks=len(items))
    ds = ds.map_batches(apply, batch_size=1, batch_format="numpy")
    done = sorted((int(row["i"]), row["out"]) for row in ds.iter_rows())
    results = [pickle.loads(out) for _, out in done]
    failed = next((r for r in results if isinstance(r, _Failed)), None)
    if failed is not None:  # the first in task order, as the local engine's loop raises it
        raise failed.error
    return results


@dataclass(frozen=True)
class _Failed:
    error: Exception


def _outcome(fn: Callable[[object], object], task: object) -> object:
    """`fn(task)`, or the input error it raised as a value: raised inside the task, Ray Data
    wraps it in its own exception and traceback, which the CLI reports as a bug in curate."""
    try:
        return fn(task)
    except (CurateError, OSError) as exc:
        return _Failed(exc)


def _lean(fn: Callable) -> Callable:
    """`fn` as a task runs it: one malloc arena per worker, and the heap the task freed handed
    back to the OS after it. An idle worker otherwise keeps its largest task's heap (at 1M
    records two idle workers held 1.2 GB during dedupe's near step)."""

    def run(batch):
        one_heap()
        try:
            return fn(batch)
        finally:
            release_memory()

    return run


def _blocks(table, batch_size: int):
    import ray.data

    _quiet()
    return ray.data.from_arrow(table).repartition(max(1, -(-table.num_rows // batch_size)))


def map_table(table, fn: Callable, batch_size: int) -> Iterator[dict]:
    """`fn(batch)` over `table` (pyarrow) in batches of `batch_size` rows (numpy dicts), in
    order."""
    ds = _blocks(table, batch_size).map_batches(
        _lean(fn), batch_size=batch_size, batch_format="numpy"
    )
    yield from ds.iter_batches(batch_size=None, batch_format="numpy")


def map_group(
    table, batch_size: int, fn: Callable, keys: list[str], group_fn: Callable, partitions: int
) -> Iterator[dict]:
    """`fn` over `table` in batches, then `group_fn(group)` for each group of its output rows
    with equal `keys` (a Ray Data hash shuffle into `partitions`); output in no set order.
    `table` goes to the object store at once: a caller that passes its only reference frees
    the driver's copy while the tasks run."""
    ds = _blocks(table, batch_size).map_batches(
        _lean(fn), batch_size=batch_size, batch_format="numpy"
    )
    del table  # in the object store now: the caller may hand over its only reference
    ds = ds.groupby(keys, num_partitions=partitions)
    ds = ds.map_groups(_lean(group_fn), batch_format="numpy")
    yield from ds.iter_batches(batch_size=None, batch_format="numpy")
