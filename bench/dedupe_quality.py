"""Score `curate dedupe` on the labelled set: precision and recall per kind, 95% intervals.

The first set (tests/data/dedupe_pairs.jsonl, dedupe_triples.jsonl; built by
tests/data/build_pairs.py) has a tuning half and a held-out half, both seen while tuning by now
(tuning data), and so is the first fresh set (tests/data/dedupe_heldout.jsonl,
dedupe_heldout_triples.jsonl; tests/data/fresh_heldout.py), written and frozen after that and
seen since. The fresh2 set (tests/data/dedupe_fresh2.jsonl, dedupe_fresh2_triples.jsonl;
tests/data/fresh2_heldout.py) was written and frozen before the content-overlap rules it
scored first, and has been tuning data since (the synonym lists, the kind a question asks for).
The fresh3 set (tests/data/dedupe_fresh3.jsonl, dedupe_fresh3_triples.jsonl;
tests/data/fresh3_heldout.py) was written and frozen by someone who saw neither dedupe's code
nor its results, scored once, and has been tuning data since. The fresh4 set
(tests/data/dedupe_fresh4.jsonl, dedupe_fresh4_triples.jsonl; tests/data/fresh4_heldout.py) was
written the same way, frozen before the changes tuned on fresh3, scored once, and has been
tuning data since (the one-bigram rule for 歇后语). The fresh5 set (tests/data/dedupe_fresh5.jsonl,
dedupe_fresh5_triples.jsonl; tests/data/fresh5_heldout.py) was written the same way, frozen
before that rule, scored once, and has been tuning data since (bridges.py). The fresh6 set
(tests/data/dedupe_fresh6.jsonl, dedupe_fresh6_triples.jsonl; tests/data/fresh6_heldout.py) was
written the same way, frozen before bridges.py, scored once, and seen since (its bridges). The
fresh7 set (tests/data/dedupe_fresh7.jsonl, dedupe_fresh7_triples.jsonl;
tests/data/fresh7_heldout.py) was written the same way, frozen before bridges.py was final,
scored once, and has been tuning data since (字, 有, 在 in glyph.py). The fresh8 set
(tests/data/dedupe_fresh8.jsonl, dedupe_fresh8_triples.jsonl; tests/data/fresh8_heldout.py) was
written the same way, frozen before that, scored once, and has been tuning data since (旁, 边,
里). The fresh9 set (tests/data/dedupe_fresh9.jsonl, dedupe_fresh9_triples.jsonl;
tests/data/fresh9_heldout.py) was written the same way, frozen before that, scored once, and
has been tuning data since (上, 下; a bridge's members are not copies of it). The fresh10 set
(tests/data/dedupe_fresh10.jsonl, dedupe_fresh10_triples.jsonl; tests/data/fresh10_heldout.py)
was written the same way, frozen before that, scored once, and has been tuning data since
(a clue's shared parts are 0.3 of the longer clue's too). The fresh11 set
(tests/data/dedupe_fresh11.jsonl, dedupe_fresh11_triples.jsonl; tests/data/fresh11_heldout.py)
was written the same way, frozen before that, scored on the code before it and after each
change since (its misses read: tuning data now). The fresh12 set (tests/data/dedupe_fresh12.jsonl,
dedupe_fresh12_triples.jsonl; tests/data/fresh12_heldout.py) was written the same way, frozen
before the content-alone rule for brain teasers (`--specific-alone`), and scored once on the
code before it and once after: it decided that the rule stays. Each set is deduped
on its own, as `curate ingest` would see it (display text, t2s, riddle_type detected), next to
the 14,032 sayings of ../shared/data/xiehouyu.json as background (real answer frequencies and
IDF; `--no-background` to leave them out). Two records are merged when they end with the same
survivor. Scores:
- precision per merge kind (the kind of the weaker link of the two records to their common
  survivor: exact < near_duplicate < variant): merged pairs labelled `same` / all merged;
- recall per group of `same` pairs (copies, lead-ins, hand-written paraphrases);
- `distinct` and `conflict` pairs merged (wrong), conflicts listed for review;
- bridge triples (A~B~C, A distinct from C) whose A and C merged (target: none).

    .venv/bin/python bench/dedupe_quality.py                 # every set, writes bench/out/
    .venv/bin/python bench/dedupe_quality.py --half tuning   # the tuning data only
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import polars as pl  # noqa: E402

from curate import io, stage  # noqa: E402
from curate.normalize import display  # noqa: E402
from curate.record import SCHEMA, content_hash, record_id  # noqa: E402
from curate.riddle_type import detect  # noqa: E402
from curate.stages.dedupe import DedupeConfig, dedupe  # noqa: E402

DATA = REPO / "tests" / "data"
XIEHOUYU = REPO.parent / "shared" / "data" / "xiehouyu.json"
WEAKNESS = {"exact": 0, "near_duplicate": 1, "variant": 2, "conflict": 3}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


SETS = {  # half -> (pairs file, triples file)
    "tune": ("dedupe_pairs.jsonl", "dedupe_triples.jsonl"),
    "heldout": ("dedupe_pairs.jsonl", "dedupe_triples.jsonl"),
    "fresh": ("dedupe_heldout.jsonl", "dedupe_heldout_triples.jsonl"),
    "fresh2": ("dedupe_fresh2.jsonl", "dedupe_fresh2_triples.jsonl"),
    "fresh3": ("dedupe_fresh3.jsonl", "dedupe_fresh3_triples.jsonl"),
    "fresh4": ("dedupe_fresh4.jsonl", "dedupe_fresh4_triples.jsonl"),
    "fresh5": ("dedupe_fresh5.jsonl", "dedupe_fresh5_triples.jsonl"),
    "fresh6": ("dedupe_fresh6.jsonl", "dedupe_fresh6_triples.jsonl"),
    "fresh7": ("dedupe_fresh7.jsonl", "dedupe_fresh7_triples.jsonl"),
    "fresh8": ("dedupe_fresh8.jsonl", "dedupe_fresh8_triples.jsonl"),
    "fresh9": ("dedupe_fresh9.jsonl", "dedupe_fresh9_triples.jsonl"),
    "fresh10": ("dedupe_fresh10.jsonl", "dedupe_fresh10_triples.jsonl"),
    "fresh11": ("dedupe_fresh11.jsonl", "dedupe_fresh11_triples.jsonl"),
    "fresh12": ("dedupe_fresh12.jsonl", "dedupe_fresh12_triples.jsonl"),
}
TITLES = {
    "tune": "tune half",
    "heldout": "old held-out half",
    "fresh": "fresh held-out",
    "fresh2": "fresh2 (tuning)",
    "fresh3": "fresh3 (tuning)",
    "fresh4": "fresh4 (tuning)",
    "fresh5": "fresh5 (tuning)",
    "fresh6": "fresh6 (scored once)",
    "fresh7": "fresh7 (scored once)",
    "fresh8": "fresh8 (scored once)",
    "fresh9": "fresh9 (scored once)",
    "fresh10": "fresh10 (scored once)",
    "fresh11": "fresh11 (scored)",
    "fresh12": "fresh12 held-out",
}
CHOICES = {
    "old": ["tune", "heldout"],
    "tuning": ["tune", "heldout", "fresh"] + [f"fresh{k}" for k in range(2, 11)],
    "all": ["tune", "heldout", "fresh"] + [f"fresh{k}" for k in range(2, 13)],
}


def paraphrase(group: str) -> bool:
    """Hand-written paraphrase groups: `hand` of the first set (its `same` pairs), the
    `paraphrase_*` groups of the fresh one."""
    return group == "hand" or group.startswith("paraphrase")


def load(name: str, half: str) -> list[dict]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["half"] == half]


def frame(texts: list[tuple[str, str]], source: str) -> pl.DataFrame:
    rows = []
    for n, (q, a) in enumerate(texts, 1):
        rows.append(
            {
                "id": record_id(source, n),
                "source": source,
                "line": n,
                "category": None,
                "riddle_type": detect(q, a),
                "question": q,
                "answer": a,
                "question_raw": q,
                "answer_raw": a,
                "content_hash": content_hash(q, a),
                "meta": None,
            }
        )
    return pl.DataFrame(rows, schema=SCHEMA)


def norm(r: dict) -> tuple[str, str]:
    return display(r["question"]), display(r["answer"])


def run(pairs: list[dict], triples: list[dict], background: bool, **flags) -> dict:
    """Dedupe one half; each labelled text -> (survivor id, link kind)."""
    texts = sorted(
        {norm(r[s]) for r in pairs for s in "ab"} | {norm(t[s]) for t in triples for s in "abc"}
    )
    frames = [frame(texts, "labelled.jsonl")]
    if background:
        data = json.loads(XIEHOUYU.read_text(encoding="utf-8"))
        frames.append(
            frame([(display(d["riddle"]), display(d["answer"])) for d in data], "xiehouyu.json")
        )
    with tempfile.TemporaryDirectory() as tmp:
        df = pl.concat(frames)
        stage.write_stage(Path(tmp), "ingested", df, [], n_in=df.height, params={}, inputs=[])
        result = dedupe(DedupeConfig(processed=Path(tmp), **flags))
        rejects = {r["id"]: r for r in io.read_jsonl(Path(tmp) / "deduped.rejects.jsonl")}
        conflicts = io.read_jsonl(Path(tmp) / "deduped.conflicts.jsonl")
    ids = dict(zip(texts, frames[0]["id"].to_list(), strict=True))
    fate = {
        t: (rejects[i]["duplicate_of"], rejects[i]["kind"]) if i in rejects else (i, "exact")
        for t, i in ids.items()
    }
    flagged = {frozenset((c["a"]["kept_as"], c["b"]["kept_as"])) for c in conflicts}
    return {"fate": fate, "flagged": flagged, "timings": result.timings}


def score(pairs: list[dict], triples: list[dict], out: dict) -> dict:
    fate, flagged = out["fate"], out["flagged"]
    merged_by_kind, same_by_kind = Counter(), Counter()
    recall, misses, wrong = defaultdict(lambda: [0, 0]), [], []
    flags = [0, 0]
    for p in pairs:
        (sa, ka), (sb, kb) = fate[norm(p["a"])], fate[norm(p["b"])]
        merged = sa == sb
        kind = max(ka, kb, key=WEAKNESS.get)
        if merged:
            merged_by_kind[kind] += 1
            same_by_kind[kind] += p["label"] == "same"
        if p["label"] == "same":
            group = recall[p["group"]]
            group[0] += merged
            group[1] += 1
            if not merged:
                misses.append(p)
        elif merged:
            wrong.append((p, kind))
        if p["label"] == "conflict":
            flags[0] += frozenset((sa, sb)) in flagged
            flags[1] += 1
    bridged = [t for t in triples if fate[norm(t["a"])][0] == fate[norm(t["c"])][0]]
    return {
        "precision": {k: (same_by_kind[k], merged_by_kind[k]) for k in merged_by_kind},
        "recall": dict(recall),
        "misses": misses,
        "wrong": wrong,
        "conflicts_flagged": tuple(flags),
        "bridged": bridged,
        "triples": len(triples),
    }


def interval(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {k / n if n else float('nan'):.3f} [{lo:.3f}, {hi:.3f}]"


def report(name: str, s: dict) -> str:
    lines = [f"### {name}", "", "| measure | value (95% Wilson interval) |", "|---|---|"]
    for kind in ("exact", "near_duplicate", "variant"):
        k, n = s["precision"].get(kind, (0, 0))
        lines.append(f"| precision, merged as {kind} | {interval(k, n)} |")
    all_same = [sum(v[i] for v in s["recall"].values()) for i in (0, 1)]
    lines.append(f"| recall, all `same` pairs | {interval(*all_same)} |")
    para = [sum(v[i] for g, v in s["recall"].items() if paraphrase(g)) for i in (0, 1)]
    lines.append(f"| recall, hand-written paraphrases | {interval(*para)} |")
    for group, (k, n) in sorted(s["recall"].items()):
        lines.append(f"| recall, {group} | {interval(k, n)} |")
    lines.append(f"| conflicts listed for review | {interval(*s['conflicts_flagged'])} |")
    lines.append(f"| bridge triples with A merged into C | {len(s['bridged'])} of {s['triples']} |")
    lines += ["", "Missed (`same`, not merged):", ""]
    lines += [
        f"- [{p['group']}] {p['a']['question']} / {p['b']['question']} → {p['a']['answer']}"
        for p in s["misses"]
    ]
    lines += ["", "Wrongly merged (`distinct` or `conflict`):", ""]
    for p, k in s["wrong"]:
        a, b = p["a"], p["b"]
        lines.append(
            f"- [{p['group']}, {p['label']}, as {k}] {a['question']} → {a['answer']} / "
            f"{b['question']} → {b['answer']}"
        )
    lines += [
        f"- [bridge] {t['a']['question']} / {t['c']['question']} → {t['a']['answer']}"
        for t in s["bridged"]
    ]
    return "\n".join(lines) + "\n"


def summary(scored: dict[str, dict]) -> str:
    """One column per half: the measures with targets."""
    rows = {
        "precision, near_duplicate": lambda s: interval(
            *s["precision"].get("near_duplicate", (0, 0))
        ),
        "precision, variant": lambda s: interval(*s["precision"].get("variant", (0, 0))),
        "recall, hand-written paraphrases": lambda s: interval(
            *[sum(v[i] for g, v in s["recall"].items() if paraphrase(g)) for i in (0, 1)]
        ),
        "recall, all `same` pairs": lambda s: interval(
            *[sum(v[i] for v in s["recall"].values()) for i in (0, 1)]
        ),
        "wrong merges (`distinct`/`conflict` pairs)": lambda s: str(len(s["wrong"])),
        "bridge triples with A merged into C": lambda s: f"{len(s['bridged'])} of {s['triples']}",
    }
    lines = ["| measure | " + " | ".join(scored) + " |", "|---" * (len(scored) + 1) + "|"]
    for name, cell in rows.items():
        lines.append(f"| {name} | " + " | ".join(cell(s) for s in scored.values()) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=[*SETS, *CHOICES], default="all")
    parser.add_argument("--no-background", action="store_true")
    parser.add_argument(
        "--variant-min-shared", type=int, default=None, help="passed to dedupe (default: its own)"
    )
    args = parser.parse_args()
    flags = (
        {} if args.variant_min_shared is None else {"variant_min_shared": args.variant_min_shared}
    )
    halves = CHOICES.get(args.half, [args.half])
    text, scored = "", {}
    for h in halves:
        pairs, triples = load(SETS[h][0], h), load(SETS[h][1], h)
        s = score(pairs, triples, run(pairs, triples, not args.no_background, **flags))
        scored[TITLES[h]] = s
        text += report(f"{TITLES[h]} ({len(pairs)} pairs, {len(triples)} triples)", s) + "\n"
    text = summary(scored) + "\n" + text
    print(text)
    (REPO / "bench" / "out").mkdir(exist_ok=True)
    (REPO / "bench" / "out" / "dedupe_quality.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
