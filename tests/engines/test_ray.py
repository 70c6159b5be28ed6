"""The Ray engine on a local Ray with 2 CPUs: the same bytes as the local engine, tasks
retried when a worker dies, and the stage contract when the driver stops mid-stage."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install 'ray[data]')")

import ray_corpus  # noqa: E402

from curate import stage  # noqa: E402
from curate.engines import EngineConfig  # noqa: E402
from curate.errors import InputError  # noqa: E402
from curate.stages.ingest import IngestConfig, ingest, tasks  # noqa: E402
from curate.stages.run import RunConfig, run  # noqa: E402

RAY = EngineConfig("ray")
# Ray Data touches its own deprecated settings when it copies its context.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")]


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray (2 CPUs, no dashboard) for the module, shut down after."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def corpus(project, xiehouyu_path, monkeypatch) -> Path:
    """~20k raw records; ranges of 256 KiB, so the large JSONL is several read tasks."""
    monkeypatch.setattr(tasks, "RANGE_BYTES", 1 << 18)
    return ray_corpus.write(project / "raw", xiehouyu_path)


def files(processed: Path) -> dict[str, bytes]:
    """Every stage file, manifests without their engine field."""
    out = {}
    for path in sorted(p for p in processed.rglob("*") if p.is_file()):
        name = path.relative_to(processed).as_posix()
        if name.endswith("manifest.json"):
            data = json.loads(path.read_bytes())
            data.pop("engine", None)
            out[name] = json.dumps(data, sort_keys=True).encode()
        elif not path.name.startswith("."):
            out[name] = path.read_bytes()
    return out


def test_ray_run_writes_the_local_bytes(local_ray, corpus):
    """ingest, dedupe and export on Ray: kept rows, rejects, conflicts, clusters, shards and
    manifests byte-identical to the local engine's (the engine field apart)."""
    config = RunConfig(processed=Path("processed"), report=False)
    local = run(config)
    expected = files(Path("processed"))
    shutil.rmtree("processed")
    on_ray = run(dataclasses.replace(config, engine=RAY))
    got = files(Path("processed"))
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], name
    counts = [s.counts for s in local.steps]
    assert [s.counts for s in on_ray.steps] == counts
    assert counts[0]["in"] > 20_000 and counts[1]["rejected"] > 1000
    manifests = [stage.read_manifest("processed", s) for s in ("ingested", "deduped")]
    assert [m["engine"] for m in manifests] == ["ray", "ray"]
    ingested = manifests[0]
    big = next(f for f in ingested["inputs"] if f["path"] == "raw/big.jsonl")
    assert big["format"] == "jsonl" and big["records"] > 19_000  # read as byte ranges
    assert len(tasks.tasks([(Path("raw/big.jsonl"), "x")], IngestConfig())) > 4
    gbk = next(f for f in ingested["inputs"] if f["path"] == "raw/gbk.jsonl")
    assert gbk["encoding"] == "gb18030"  # not UTF-8: read whole after its range failed
    conflicts = Path("processed/deduped.conflicts.jsonl").read_text(encoding="utf-8")
    assert conflicts.count("\n") > 10


def test_zero_rows_run_on_ray_as_on_this_machine(local_ray, project, write_raw):
    """Every record rejected at ingest: dedupe on Ray has nothing to shuffle, and writes the
    empty stage the local engine writes."""
    write_raw("a.jsonl", '{"q": "", "a": "x"}\n{"q": "？？", "a": "y"}\n')
    config = RunConfig(processed=Path("processed"), report=False)
    local = run(config)
    expected = files(Path("processed"))
    shutil.rmtree("processed")
    on_ray = run(dataclasses.replace(config, engine=RAY))
    assert files(Path("processed")) == expected
    assert [s.counts for s in on_ray.steps] == [s.counts for s in local.steps]
    assert on_ray.steps[1].counts == {"in": 0, "kept": 0, "rejected": 0}


def test_driver_stopped_mid_stage_leaves_the_old_stage(local_ray, corpus, monkeypatch):
    """An exception on the driver after the tasks ran (the commit not reached): the previous
    complete stage stays, verified, and no part files are left behind."""
    first = ingest(IngestConfig(), engine=RAY)

    def stop(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(tasks, "merge", stop)
    with pytest.raises(KeyboardInterrupt):
        ingest(IngestConfig(convert="none"), engine=RAY)
    assert stage.read_manifest("processed", "ingested") == first.manifest
    assert not list(Path("processed").glob(".ingested.parts.*"))


def test_killed_worker_task_is_retried_and_the_stage_commits(project):
    """CURATE_FAULT=ingested:task: the first task SIGKILLs its worker once; Ray reruns the
    task and the stage commits the same bytes as an undisturbed local run."""
    shutil.copytree(ray_corpus.REPO / "raw", "raw", dirs_exist_ok=True)
    ingest(IngestConfig())
    expected = files(Path("processed"))
    env = {"CURATE_FAULT": "ingested:task"}
    ray.shutdown()  # the module's Ray, if it runs: this one passes the variable to workers
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        runtime_env={"env_vars": env},
    )
    try:
        ingest(IngestConfig(), engine=RAY)
    finally:
        ray.shutdown()
    assert Path("processed", tasks.FAULT_MARKER).is_file()  # a worker was killed
    assert files(Path("processed")) == expected


def test_small_files_before_a_large_one_write_the_local_bytes(
    local_ray, project, write_raw, monkeypatch
):
    """A few-row file read before a large one, whose byte ranges are Ray tasks: the same
    ingested.parquet as the local engine, which reads it as one batch (row groups used to
    follow the batches)."""
    monkeypatch.setattr(tasks, "RANGE_BYTES", 1 << 14)
    rows = [{"q": f"谜面{i}号是什么", "a": f"谜底{i}"} for i in range(3000)]
    write_raw("a_small.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[:10]))
    write_raw("b_large.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[10:]))
    ingest(IngestConfig())
    expected = files(Path("processed"))
    ingest(IngestConfig(), engine=RAY)
    assert files(Path("processed")) == expected


def test_a_file_that_cannot_be_read_is_named_as_the_local_engine_names_it(
    local_ray, project, write_raw
):
    """A broken JSON document among good files: the local engine's InputError, naming the
    file as given and the line, not Ray's traceback (which the CLI reports as a bug)."""
    write_raw("a.jsonl", '{"q": "什么门永远关不上", "a": "球门"}\n')
    write_raw("b.json", '[{"q": "a", "a": "b"},\n{"q": "c", "a": \n')
    with pytest.raises(InputError) as local:
        ingest(IngestConfig())
    with pytest.raises(InputError) as on_ray:
        ingest(IngestConfig(), engine=RAY)
    assert str(on_ray.value) == str(local.value)
    assert str(local.value).startswith("raw/b.json: not valid JSON at line 3")


@pytest.mark.parametrize(
    ("flag", "env", "joined"),
    [(None, None, "local"), (None, "10.0.0.5:6379", "10.0.0.5:6379"), ("auto", None, "auto")],
)
def test_no_ray_address_starts_a_new_local_ray(monkeypatch, flag, env, joined):
    # ray.init() with no address joins the last `ray start` head of this machine; when that
    # head died without `ray stop`, it hung for minutes on the dead cluster named in /tmp/ray.
    from curate.engines import ray as engine

    seen = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda address=None, **kw: seen.append(address))
    monkeypatch.setattr(ray, "shutdown", lambda: None)
    monkeypatch.setattr(engine, "_quiet", lambda: None)
    monkeypatch.setattr(engine, "_reachable", lambda address: None)
    if env is None:
        monkeypatch.delenv("RAY_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("RAY_ADDRESS", env)
    with engine.session(flag):
        pass
    assert seen == [joined]
