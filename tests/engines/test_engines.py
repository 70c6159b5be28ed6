"""Engine selection and the read tasks of `--engine ray`, without Ray itself."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from curate.cli import main as cli
from curate.engines import EngineConfig, get
from curate.errors import ConfigError, CurateError
from curate.stages.ingest import IngestConfig, jsonl, process, tasks


def test_ray_engine_without_ray_says_how_to_install(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(CurateError, match=r"pip install -e '\.\[ray\]'"):
        get(EngineConfig("ray"))
    result = CliRunner().invoke(cli, ["ingest", "--engine", "ray"])
    assert result.exit_code == 1 and "pip install" in result.output
    assert not list(Path("processed").glob("ingested.*"))


def test_engine_choices_and_address_checked():
    assert get(EngineConfig()).NAME == "local"
    with pytest.raises(ConfigError, match="--ray-address needs --engine ray"):
        get(EngineConfig("local", "auto"))
    result = CliRunner().invoke(cli, ["dedupe", "--engine", "spark"])
    assert result.exit_code == 2 and "'local', 'ray'" in result.output


def test_run_reads_the_engine_from_curate_toml(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    Path("curate.toml").write_text('[run]\nengine = "ray"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 1 and "--engine ray needs Ray" in result.output


@pytest.mark.parametrize("size", [7, 64, 1000, 1 << 20])
def test_byte_ranges_keep_true_line_numbers(tmp_path, size):
    """Ranges cut only after a newline; their lines, numbered from each range's first line,
    are the lines `jsonl.line_batches` reads (BOM, CRLF, bare CR, blank lines, no final EOL)."""
    data = '\ufeff{"q": "一", "a": "二"}\r\n\n{"q": "三"}\r{"q": "四"}\r\r\n\n{"q": "五"}'
    path = tmp_path / "x.jsonl"
    path.write_bytes(data.encode())
    expected = [(n, line) for s, ls in jsonl.line_batches(path) for n, line in enumerate(ls, s)]
    ranges = tasks.ranges_of(path, size)
    got = [
        (n, line) for r in ranges for n, line in enumerate(tasks.range_lines(path, r), r.first_line)
    ]

    def nonblank(rows):
        return [(n, line.strip("\r")) for n, line in rows if line.strip()]

    assert nonblank(got) == nonblank(expected)
    assert ranges[0].start == 0 and ranges[-1].end == len(data.encode())
    assert all(a.end == b.start for a, b in zip(ranges[:-1], ranges[1:], strict=True))


def test_tasks_run_apart_give_the_local_result(project, write_raw):
    """Every task converted on its own, merged in order: the local engine's rows."""
    lines = [f'{{"question": "问题{i}？", "answer": "答{i % 7}"}}' for i in range(300)]
    lines[5], lines[77] = '{"question": "", "answer": "x"}', '{"question": "cut'
    write_raw("a.jsonl", "\n".join(lines) + "\n")
    write_raw("b.json", [{"question": "甲", "answer": "乙"}])
    config = IngestConfig()
    files = [(p, f"raw/{p.name}") for p in sorted(Path("raw").iterdir())]

    class Serial:  # the engine protocol, run here one task after another
        map_tasks = staticmethod(lambda fn, items: [fn(t) for t in items])

    todo = tasks.tasks(files, config, size=500)
    assert len(todo) > 10 and todo[-1].range is None  # b.json: one whole-file task
    apart = tasks.convert_files(files, config, Serial, project / "parts")
    local = process.convert_files(files, config, None)
    assert [r.stats.entry() for r in apart] == [r.stats.entry() for r in local]
    assert [r.rejects for r in apart] == [r.rejects for r in local]
    assert process.kept_rows(apart).collect().equals(process.kept_rows(local))


def test_tasks_with_a_line_holding_several_records_give_the_local_result(project, write_raw):
    """A later range finding a line holding an array of records sends the whole file to be
    read again whole (numbered by index), as the local engine does."""
    lines = [f'{{"question": "问题{i}？", "answer": "答{i % 7}"}}' for i in range(300)]
    lines[250] = '[{"question": "一口咬掉牛尾巴", "answer": "告"}, {"question": "十张口"}]'
    write_raw("a.jsonl", "\n".join(lines) + "\n")
    config, files = IngestConfig(), [(Path("raw/a.jsonl"), "raw/a.jsonl")]

    class Serial:
        map_tasks = staticmethod(lambda fn, items: [fn(t) for t in items])

    assert len(tasks.tasks(files, config, size=500)) > 10
    apart = tasks.convert_files(files, config, Serial, project / "parts")
    local = process.convert_files(files, config, None)
    assert apart[0].stats.entry() == local[0].stats.entry()
    assert (apart[0].stats.records, apart[0].stats.numbering) == (301, "index")
    assert [r.rejects for r in apart] == [r.rejects for r in local]
    assert process.kept_rows(apart).collect().equals(process.kept_rows(local))


def test_tasks_run_apart_name_files_in_warnings_as_the_local_engine(project, write_raw):
    """A task reads its file by absolute path; its warnings still name it as rows do."""
    write_raw("a.csv", "什么东西越洗越脏？,水\n一口咬掉牛尾巴,告\n")  # no header: a warning
    files = [(p, f"raw/{p.name}") for p in sorted(Path("raw").iterdir())]

    class Serial:
        map_tasks = staticmethod(lambda fn, items: [fn(t) for t in items])

    apart = tasks.convert_files(files, IngestConfig(), Serial, project / "parts")
    local = process.convert_files(files, IngestConfig(), None)
    assert [r.warnings for r in apart] == [r.warnings for r in local]
    assert apart[0].warnings[0].startswith("raw/a.csv: the first row")


def test_a_ray_address_where_nothing_listens_is_an_error_not_a_hang(project, write_raw):
    """--ray-address host:port with no Ray there: exit 2 at once, naming the address (Ray
    itself retried for minutes, printing GCS warnings)."""
    pytest.importorskip("ray.data", reason="the ray extra is not installed")
    write_raw("a.jsonl", '{"q": "什么门永远关不上", "a": "球门"}\n')
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    args = ["ingest", "--engine", "ray", "--ray-address", f"127.0.0.1:{port}"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert f"cannot reach Ray at --ray-address 127.0.0.1:{port}" in result.output
    assert time.monotonic() - started < 30
    assert not list(Path("processed").glob("ingested.*"))
