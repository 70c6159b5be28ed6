"""CSV, TSV and text files are read in chunks of lines (memory bounded by the chunk), with the
same records, stats and kept rows as reading them whole."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from curate.stages.ingest import IngestConfig, process, readers, textstream

CSV = (
    "question,answer,category\n"
    '"一口咬掉牛尾巴","告"\n'
    '"多行的\n谜面","谜底, 带逗号",字谜\n'
    '"没关上的引号,答案\n'  # unclosed: the next line reads as a complete row
    "四个口,田\r\n"
    "\n"
    "一,二,三,四\n"
    "老 CR 行,答\r"
    "小,少\n" * 40 + '"到最后也没关上,\n末行\n'
)
HEADERLESS = "".join(f"什么东西{i}越洗越脏,水{i}\n" for i in range(60))
TSV = "问题\t答案\n" + "".join(f'"第{i}个"\t"答{i}"\n' for i in range(30))
TSV_PLAIN = "谜面\t谜底\n" + "".join(f'"小"字加{i}点\t答{i}\n' for i in range(30))
TEXT = "\ufeff# 注释\n" + "".join(
    f"问：第{i}题\n答：答{i}\n续行{i}\n\n泥菩萨过江{i}——自身难保\n乱写的一行{i}\n题目：甲 答：乙\n"
    for i in range(30)
)


@pytest.mark.parametrize(
    ("name", "content", "prefix"),
    [
        ("a.csv", CSV, b""),
        ("b.csv", HEADERLESS, b"\xef\xbb\xbf"),
        ("c.tsv", TSV, b""),
        ("d.tsv", TSV_PLAIN, b""),
        ("e.csv", TSV, b""),  # tab-separated content behind a .csv name
        ("f.txt", TEXT, b""),
    ],
)
@pytest.mark.parametrize("chunk", [1, 37, 500])
def test_chunked_read_gives_the_whole_file_records(
    tmp_path, monkeypatch, name, content, prefix, chunk
):
    path = tmp_path / name
    path.write_bytes(prefix + content.encode("utf-8"))
    whole = readers.read_file(path)
    monkeypatch.setattr(textstream, "CHUNK", chunk)
    assert len(list(textstream.text_chunks(path))) > 2  # several chunks, not the whole file
    fmt, used, records, warnings = textstream.open_text(path)
    assert list(records) == whole.records
    assert (fmt, used, tuple(warnings)) == (whole.format, whole.encoding, whole.warnings)


def _convert(path: Path, monkeypatch, streamed: bool) -> process.FileResult:
    chunks: list[str] = []
    read = textstream.text_chunks

    def counted(p):
        for text in read(p):
            chunks.append(text)
            yield text

    with monkeypatch.context() as m:
        m.setattr(textstream, "CHUNK", 64)
        m.setattr(process, "BATCH", 5)
        m.setattr(textstream, "text_chunks", counted)
        if not streamed:
            m.setattr(textstream, "streamable", lambda path, encoding: False)
        result = process.convert_file(path, path.name, IngestConfig(), process.Done(0, None), None)
    assert (len(chunks) > 3) == streamed
    return result


@pytest.mark.parametrize(("name", "content"), [("a.csv", CSV), ("f.txt", TEXT)])
def test_streamed_file_converts_like_the_whole_file(tmp_path, monkeypatch, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    streamed = _convert(path, monkeypatch, True)
    whole = _convert(path, monkeypatch, False)
    assert streamed.stats == whole.stats and streamed.stats.records > 20
    assert streamed.rejects == whole.rejects
    assert streamed.warnings == whole.warnings
    assert len(streamed.kept) == len(whole.kept) > 1  # several batches of records
    for a, b in zip(streamed.kept, whole.kept, strict=True):
        assert a.equals(b)


def test_a_later_chunk_in_another_encoding_reads_the_file_whole(tmp_path, monkeypatch):
    # The start is ASCII (valid UTF-8); the riddles further on are GB18030.
    content = "question,answer\n" + "abc,def\n" * 50 + "一口咬掉牛尾巴,告\n" * 20
    path = tmp_path / "gbk.csv"
    path.write_bytes(content.encode("gb18030"))
    whole = _convert(path, monkeypatch, False)
    monkeypatch.setattr(textstream, "CHUNK", 64)
    result = process.convert_file(path, path.name, IngestConfig(), process.Done(0, None), None)
    assert result.stats == whole.stats and result.stats.encoding == "gb18030"
    assert result.rejects == whole.rejects
    assert pl.concat(result.kept).equals(pl.concat(whole.kept))
