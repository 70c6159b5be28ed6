"""Every reader of an export refuses one whose files differ from its manifest (or, in a
processed folder, one without its manifest): training, the SiliconFlow upload, eval."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from exportdata import RIDDLES, records, write_deduped

from curate.errors import InputError, StageError
from curate.evaluation import load_riddles
from curate.evaluation.source import export_params
from curate.stages.export import ExportConfig, export
from curate.training.siliconflow import read_split
from curate.verify import check_file, split_files

PAIRS = [(q, f"谜底{i}") for i, (q, _) in enumerate(RIDDLES)]
TWO_RUNS = r"processed/export/jsonl/ is incomplete or from two runs \(.*\); rerun `curate export`"


@pytest.fixture
def out(project) -> Path:
    """A real `curate export` (jsonl) in processed/export/jsonl."""
    write_deduped(project / "processed", records(PAIRS))
    return export(ExportConfig(processed=Path("processed"), user_template="谜：{question}")).out


def readers(out: Path) -> dict:
    """Each reader of an export folder, called on `out`."""

    def train():
        from curate.training.outputs import read_export  # imports transformers

        return read_export(out)

    return {
        "train": train,
        "siliconflow": lambda: read_split(out, "validation"),
        "eval": lambda: load_riddles(out, "validation"),
        "eval params": lambda: export_params(out),
    }


def test_a_complete_export_is_read(out):
    assert [p.name for p in split_files(out, "train")] == ["train-00000-of-00001.jsonl"]
    assert len(load_riddles(out, "validation")) == len(read_split(out, "validation")[0]) > 0
    assert export_params(out)["user_template"] == "谜：{question}"


@pytest.mark.parametrize("reader", ["train", "siliconflow", "eval", "eval params"])
def test_a_changed_shard_is_refused_by_every_reader(out, reader):
    shard = out / "validation-00000-of-00001.jsonl"
    text = shard.read_text(encoding="utf-8")
    shard.write_text(text.replace("谜底", "答案", 1), encoding="utf-8")  # same size, other bytes
    assert shard.stat().st_size == len(text.encode())
    with pytest.raises(StageError, match=TWO_RUNS) as exc:
        readers(out)[reader]()
    assert "validation-00000-of-00001.jsonl's sha256 differs from its manifest" in str(exc.value)
    assert "to use files you edited on purpose, copy the train-*/validation-*" in str(exc.value)


@pytest.mark.parametrize("reader", ["train", "siliconflow", "eval", "eval params"])
def test_an_export_without_its_manifest_is_refused_in_a_processed_folder(out, reader):
    (out / "manifest.json").unlink()  # what a kill between its removal and its rewrite leaves
    with pytest.raises(StageError, match=r"manifest\.json is missing"):
        readers(out)[reader]()


def test_a_shard_the_manifest_does_not_list_is_refused(out):
    shard = out / "train-00000-of-00001.jsonl"
    (out / "train-00001-of-00002.jsonl").write_bytes(shard.read_bytes())  # another run's
    with pytest.raises(StageError, match="train-00001-of-00002.jsonl is not in its manifest"):
        split_files(out, "train")
    with pytest.raises(StageError, match="not in its manifest"):
        check_file(out / "train-00001-of-00002.jsonl")


def test_one_shard_of_a_changed_export_is_refused_and_a_plain_file_is_read(out, tmp_path):
    shard = out / "validation-00000-of-00001.jsonl"
    with open(shard, "a", encoding="utf-8") as f:
        f.write(shard.read_text(encoding="utf-8").splitlines()[0] + "\n")
    with pytest.raises(StageError, match=r"has \d+ bytes, its manifest says \d+"):
        load_riddles(shard, "validation")
    mine = tmp_path / "mine.jsonl"  # the user's own file, no manifest anywhere
    mine.write_text(shard.read_text(encoding="utf-8"), encoding="utf-8")
    assert len(load_riddles(mine, "validation")) == len(shard.read_text().splitlines())


def test_a_folder_of_the_users_own_shards_without_a_manifest_is_read(out, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("train-00000-of-00001.jsonl", "validation-00000-of-00001.jsonl"):
        (mine / name).write_bytes((out / name).read_bytes())
    assert [p.name for p in split_files(mine, "train")] == ["train-00000-of-00001.jsonl"]
    assert export_params(mine) == {}
    assert load_riddles(mine, "validation")


def test_a_manifest_that_is_not_a_stage_manifest_is_refused(out):
    (out / "manifest.json").write_text(json.dumps({"params": {}}), encoding="utf-8")
    with pytest.raises(StageError, match="manifest.json is not a stage manifest"):
        split_files(out, "train")


@pytest.mark.parametrize("reader", ["train", "siliconflow", "eval", "eval params"])
def test_an_export_folder_copied_alone_is_read_and_still_verified(out, tmp_path, reader):
    # The usual hand-off to a GPU machine: the export folder only, not the processed folder
    # with the rejects its manifest also lists (../../exported.rejects.jsonl).
    copy = tmp_path / "gpu" / "riddles"
    shutil.copytree(out, copy)
    assert readers(copy)[reader]()
    shard = copy / "validation-00000-of-00001.jsonl"
    shard.write_text(shard.read_text(encoding="utf-8").replace("谜底", "答案", 1), "utf-8")
    with pytest.raises(StageError, match="sha256 differs from its manifest"):
        readers(copy)[reader]()


@pytest.mark.parametrize("reader", ["train", "siliconflow", "eval"])
def test_an_export_that_ran_but_holds_nothing_to_read_says_why(project, reader):
    # "no train-*.jsonl ...; run `curate export` first" sent the user to rerun what had run.
    from curate.training.outputs import read_export

    read = {
        "train": lambda out: read_export(out),
        "siliconflow": lambda out: read_split(out, "validation"),
        "eval": lambda out: load_riddles(out, "validation"),
    }[reader]
    write_deduped(project / "processed", [])
    empty = export(ExportConfig(processed=Path("processed"), out=Path("empty"))).out
    with pytest.raises(InputError, match="the export in empty holds no records; see why with"):
        read(empty)
    write_deduped(project / "processed", records(PAIRS[:1]))
    one = export(ExportConfig(processed=Path("processed"), out=Path("one"))).out
    alpaca = export(ExportConfig(processed=Path("processed"), format="alpaca")).out
    if reader != "train":  # the one riddle went to train
        with pytest.raises(InputError, match=r"has no validation records \(1 in all, --val-f"):
            read(one)
    with pytest.raises(InputError, match="holds a --format alpaca export; this reads jsonl"):
        read(alpaca)
