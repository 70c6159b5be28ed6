"""Scale real riddles to a large `ingested.parquet` with realistic perturbations.

Each record is a random riddle of ../shared/data/xiehouyu.json, perturbed the way collections
copied from each other are: traditional characters, ASCII/full-width punctuation and width
swaps, stray spaces, prefixes like 请问, and one or two character edits (substitute, insert,
delete). The raw text is then normalized as `curate ingest` does (`normalize.display`, t2s),
so the output is what dedupe reads. `meta` holds the index of the riddle each record copies
(`{"base": 123}`), so a benchmark can tell missed duplicates from wrong merges.

    .venv/bin/python bench/make_corpus.py --n 1000000 --out bench/corpus/1m
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curate import stage  # noqa: E402
from curate.normalize import display  # noqa: E402
from curate.record import SCHEMA, content_hash, record_id  # noqa: E402

SOURCE = REPO.parent / "shared" / "data" / "xiehouyu.json"
PREFIXES = ["请问", "猜一猜：", "歇后语：", "脑筋急转弯：", "考考你，"]
ENDINGS = ["", "？", "?", "！", "。", "…", "——"]
WIDTH = str.maketrans("0123456789abcdefABCDEF,", "０１２３４５６７８９ａｂｃｄｅｆＡＢＣＤＥＦ，")


def perturb(text: str, rng: random.Random, alphabet: str, s2t) -> str:
    """One copy of `text` as another collection might have typed it."""
    r = rng.random
    if r() < 0.25:
        chars = list(text)
        for _ in range(rng.choice((1, 1, 2))):
            op, at = rng.random(), rng.randrange(len(chars) + 1)
            if op < 0.4 and at < len(chars):
                chars[at] = rng.choice(alphabet)
            elif op < 0.8:
                chars.insert(at, rng.choice(alphabet))
            elif len(chars) > 2 and at < len(chars):
                del chars[at]
        text = "".join(chars)
    if r() < 0.15:
        text = rng.choice(PREFIXES) + text
    if r() < 0.2:
        text = s2t.convert(text)
    if r() < 0.3:
        text = text.translate(WIDTH)
    if r() < 0.2:
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice((" ", "  ", "\u3000")) + text[at:]
    return text + rng.choice(ENDINGS)


def make(n: int, seed: int = 0, sources: int = 8) -> pl.DataFrame:
    import opencc

    base = json.loads(SOURCE.read_text(encoding="utf-8"))
    alphabet = "".join(sorted({c for d in base for c in d["riddle"]}))
    rng, s2t = random.Random(seed), opencc.OpenCC("s2t")
    cache: dict[str, str] = {}

    def norm(raw: str) -> str:
        if raw not in cache:
            cache[raw] = display(raw)
        return cache[raw]

    rows = []
    for line in range(1, n + 1):
        index = rng.randrange(len(base))
        riddle = base[index]
        q_raw = perturb(riddle["riddle"], rng, alphabet, s2t)
        a_raw = riddle["answer"] if rng.random() < 0.7 else s2t.convert(riddle["answer"])
        q, a = norm(q_raw), norm(a_raw)
        source = f"raw/bench-{line % sources}.jsonl"
        rows.append(
            {
                "id": record_id(source, line),
                "source": source,
                "line": line,
                "question": q,
                "answer": a,
                "question_raw": q_raw,
                "answer_raw": a_raw,
                "content_hash": content_hash(q, a),
                "meta": f'{{"base": {index}}}',
            }
        )
    return pl.DataFrame(rows, schema=SCHEMA)  # columns not set here (category, ...) are null


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="a processed/ directory")
    args = parser.parse_args()
    start = time.perf_counter()
    df = make(args.n, args.seed)
    # Committed as the ingested stage (parquet, empty rejects, manifest): dedupe verifies it.
    stage.write_stage(args.out, "ingested", df, [], n_in=df.height, params=vars(args), inputs=[])
    print(
        f"{df.height} records -> {args.out}/ingested.parquet ({time.perf_counter() - start:.1f}s)"
    )


if __name__ == "__main__":
    main()
