"""Every stage handles zero rows: all input rejected at ingest gives empty outputs, not a crash."""

from __future__ import annotations

import json

from click.testing import CliRunner

from curate.cli import main


def test_every_stage_runs_on_zero_rows(project, write_raw):
    write_raw("a.jsonl", '{"q": "", "a": "x"}\n{"q": "y", "a": ""}\n')
    runner = CliRunner()
    result = runner.invoke(main, ["run"])
    assert result.exit_code == 0, result.output
    assert "2 records read → 0 exported" in " ".join(result.output.split())
    for command, says in (
        ("ingest", "2 read, 0 kept, 2 rejected"),
        ("dedupe", "0 in, 0 kept, 0 removed"),
        ("export", "0 in, 0 kept, 0 rejected"),
        ("report", "report: processed/report.html"),
    ):
        result = runner.invoke(main, [command])
        assert result.exit_code == 0, (command, result.output)
        assert says in " ".join(result.output.split()), (command, result.output)
    processed = project / "processed"
    for manifest in (processed / "deduped.manifest.json", processed / "export/jsonl/manifest.json"):
        counts = json.loads(manifest.read_text(encoding="utf-8"))["counts"]
        assert counts == {"in": 0, "kept": 0, "rejected": 0}
