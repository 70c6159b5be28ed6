"""curate dedupe on hostile and unusual inputs: the same bytes whatever the row order, and
flags or files that are wrong are errors that say so, never a traceback."""

from __future__ import annotations

from dedupe_frames import frame, write_ingested

from curate.stages.dedupe import DedupeConfig, dedupe

# deduped.parquet and the rejects keep the input order; these two are in survivor order
OUTPUTS = ("conflicts.jsonl", "clusters.md")


def test_conflict_pair_listed_is_the_same_whatever_the_row_order(tmp_path):
    """Two clusters joined by conflicts of equal score (照着/依着 葫芦画瓢 both score 0.6667
    against 比着葫芦画瓢): the pair listed is chosen by content, not by which row came first."""
    rows = frame(
        [
            ("照着葫芦画瓢", "全盘照搬"),
            ("依着葫芦画瓢", "全盘照搬；照样"),
            ("比着葫芦画瓢", "走不了样"),
            ("一分钱开当铺", "周转不开"),
            ("二分钱开当铺", "周转不开"),
            ("三分钱开当铺", "小买卖"),
        ],
        source="raw/xiehouyu.json",
    )
    write_ingested(tmp_path / "one", rows)
    write_ingested(tmp_path / "two", rows.reverse())
    for folder in ("one", "two"):
        assert dedupe(DedupeConfig(processed=tmp_path / folder)).conflicts == 2
    for name in OUTPUTS:
        one = (tmp_path / "one" / f"deduped.{name}").read_bytes()
        assert one == (tmp_path / "two" / f"deduped.{name}").read_bytes(), name
