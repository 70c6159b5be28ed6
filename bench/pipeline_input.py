"""Deterministic noisy raw riddles as JSONL, the input of bench/bench_pipeline.py.

Each line copies a random riddle of ../shared/data/xiehouyu.json the way scraped collections
do (bench/make_corpus.py's `perturb`: traditional characters, full-width letters and digits,
stray and ideographic spaces, prefixes, one or two character edits), then adds raw-file noise:
`&nbsp;` and `&amp;` entities, zero-width characters, leading/trailing spaces, an `id` and now
and then a category. A few records are broken on purpose (empty answers; and cut-off JSON lines,
written to their own `broken.jsonl`, so that a plain `pl.read_ndjson` of `riddles.jsonl` works
for the floor), so the rejects path is timed too.

    .venv/bin/python bench/pipeline_input.py --n 1000000 --out /tmp/raw
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from make_corpus import SOURCE, perturb  # noqa: E402

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff", "\u2060")
CATEGORIES = ("歇后语", "歇後語", "民间俗语", None, None, None, None, None)


def noise(text: str, rng: random.Random) -> str:
    """Raw-file residue on top of the copy's own changes."""
    r = rng.random
    if r() < 0.1:
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice(ZERO_WIDTH) + text[at:]
    if r() < 0.08:
        text = text + "&nbsp;" if r() < 0.5 else "&nbsp;" + text
    if r() < 0.02:
        text = text.replace("，", "&amp;", 1)
    if r() < 0.1:
        text = " " * rng.randrange(1, 3) + text + rng.choice(("", " ", "\u3000", "\t"))
    return text


def lines(n: int, seed: int = 0):
    """`n` JSONL lines (without newline), the same for the same n and seed; a cut-off line
    starts with `{"question": "` and has no closing brace."""
    import opencc

    base = json.loads(SOURCE.read_text(encoding="utf-8"))
    alphabet = "".join(sorted({c for d in base for c in d["riddle"]}))
    rng, s2t = random.Random(seed), opencc.OpenCC("s2t")
    for i in range(n):
        riddle = base[rng.randrange(len(base))]
        question = noise(perturb(riddle["riddle"], rng, alphabet, s2t), rng)
        answer = riddle["answer"] if rng.random() < 0.7 else s2t.convert(riddle["answer"])
        answer = noise(answer, rng)
        roll = rng.random()
        if roll < 0.001:
            yield '{"question": "' + question + '", "answer": '  # cut off: malformed_json
            continue
        if roll < 0.002:
            answer = " "  # empty_answer
        row = {"id": i, "question": question, "answer": answer}
        category = rng.choice(CATEGORIES)
        if category:
            row["category"] = category
        yield json.dumps(row, ensure_ascii=False)


def write(n: int, out: Path, seed: int = 0) -> Path:
    """`out`/riddles.jsonl and `out`/broken.jsonl; returns `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with (
        open(out / "riddles.jsonl", "w", encoding="utf-8", newline="\n") as good,
        open(out / "broken.jsonl", "w", encoding="utf-8", newline="\n") as bad,
    ):
        for line in lines(n, seed):
            (good if line.endswith("}") else bad).write(line + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write(args.n, args.out, args.seed)


if __name__ == "__main__":
    main()
