"""A raw folder for the engine tests: the bundled sample files (every format, rejects,
conflicts) plus one large JSONL of xiehouyu copies (exact, traditional, re-punctuated, edited,
conflicting, broken), with a BOM, CRLF and bare-CR line ends and blank lines, and a GBK JSONL
that must be read whole."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write(raw: Path, xiehouyu: Path, n: int = 20_000, seed: int = 0) -> Path:
    import opencc

    raw.mkdir(parents=True, exist_ok=True)
    for f in (REPO / "raw").iterdir():
        if f.name != "README.md":
            shutil.copy(f, raw / f.name)
    base = json.loads(xiehouyu.read_text(encoding="utf-8"))[:4000]
    rng, s2t = random.Random(seed), opencc.OpenCC("s2t")
    out = bytearray(b"\xef\xbb\xbf")
    for i in range(n):
        r = base[rng.randrange(len(base))]
        q, a = r["riddle"], r["answer"]
        roll = rng.random()
        if roll < 0.15:
            q = s2t.convert(q)
        elif roll < 0.3:
            q = "请问" + q + "？"
        elif roll < 0.4:
            at = rng.randrange(len(q))
            q = q[:at] + rng.choice("的了是不一") + q[at + 1 :]
        elif roll < 0.42:
            a = base[rng.randrange(len(base))]["answer"]  # same question, other answer
        elif roll < 0.43:
            a = ""
        row = {"question": q, "answer": a, "n": i}
        if rng.random() < 0.05:
            row["category"] = "歇后语"
        line = json.dumps(row, ensure_ascii=False).encode()
        if rng.random() < 0.002:
            line = line[: len(line) // 2]  # cut off: malformed_json
        end = rng.choices([b"\n", b"\r\n", b"\r", b"\n\n"], [90, 5, 1, 4])[0]
        out += line + end
    (raw / "big.jsonl").write_bytes(bytes(out))
    gbk = [json.dumps({"q": r["riddle"], "a": r["answer"]}, ensure_ascii=False) for r in base[:50]]
    (raw / "gbk.jsonl").write_bytes("\n".join(gbk).encode("gbk", errors="replace"))
    return raw
