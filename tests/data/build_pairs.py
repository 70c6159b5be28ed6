"""Build the dedupe labelled set: tests/data/dedupe_pairs.jsonl and dedupe_triples.jsonl.

Run once; the output is committed and frozen (rerunning gives the same bytes). Each pair:
`{"n", "half", "group", "label", "a": {"question", "answer"}, "b": {...}}` with label
`same` (one riddle: must end with one survivor), `distinct` (two riddles: both kept) or
`conflict` (same or near-identical question, other answer: both kept, listed for review).
`half` is `tune` or `heldout`, from a hash of the pair's text: tuning never looks at
`heldout`. Where the pairs come from (group):
- hand: hand_labelled.py, written and judged by hand (paraphrases, 歇后语 sharing a punchline
  judged one by one, character riddles, conflicts) and the 61 pairs of tests/dedupe_pairs.py;
- copy_traditional / copy_punctuation: a riddle and a copy in traditional characters (OpenCC
  s2t) or with its punctuation, widths and spaces changed: `same` by construction;
- near_prefix: a riddle and a copy with a lead-in (请问, 猜一猜：, 歇后语：): `same`;
- xiehouyu_shared_answer: two sayings of xiehouyu.json with one punchline and no character
  bigram in common (different images: 阴天戴草帽 / 画蛇添足, 多此一举): `distinct`;
- template: two brain teasers of raw/ with different answers sharing only the 什么/哪 template.
Triples (A, B, C): A and C two riddles judged distinct (a `distinct` pair above with one
answer), B a garbled copy between them (A's first half + C's second half): A~B and B~C look
alike, and A must never merge with C.

    .venv/bin/python tests/data/build_pairs.py
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO), str(HERE), str(REPO / "tests")]

import hand_labelled as hand  # noqa: E402
from dedupe_pairs import PAIRS  # noqa: E402

XIEHOUYU = REPO.parent / "shared" / "data" / "xiehouyu.json"
LEADS = ["请问", "猜一猜：", "考考你，"]
PUNCT = str.maketrans({"，": ",", "？": "?", "！": "!", "：": ":", "；": ";"})


def half(a: dict, b: dict) -> str:
    text = json.dumps([a, b], ensure_ascii=False, sort_keys=True)
    return "heldout" if int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) % 2 else "tune"


def qa(question: str, answer: str) -> dict:
    return {"question": question, "answer": answer}


def hand_pairs() -> list[tuple[str, str, dict, dict]]:
    out = [("hand", "same", qa(a, x), qa(b, x)) for a, b, x in hand.PARAPHRASES]
    out += [("hand", "same", qa(a, x), qa(b, x)) for a, b, x in hand.XIEHOUYU_SAME + hand.ZIMI_SAME]
    out += [("hand", "distinct", qa(a, x), qa(b, x)) for a, b, x in hand.XIEHOUYU_DISTINCT]
    out += [("hand", "distinct", qa(a, x), qa(b, x)) for a, b, x in hand.ZIMI_DISTINCT]
    out += [("hand", "distinct", qa(*a), qa(*b)) for a, b in hand.ZIMI_OTHER_GLYPH]
    out += [("hand", "conflict", qa(*a), qa(*b)) for a, b in hand.CONFLICTS]
    labels = {"exact": "same", "near_duplicate": "same", "variant": "same"}
    out += [("hand", labels.get(lab, lab), qa(*a), qa(*b)) for lab, a, b in PAIRS]
    return out


def copies(riddles: list[tuple[str, str]], rng: random.Random) -> list:
    import opencc

    s2t = opencc.OpenCC("s2t")
    out = []
    for q, a in rng.sample(riddles, 70):
        out.append(("copy_traditional", "same", qa(q, a), qa(s2t.convert(q), s2t.convert(a))))
    for q, a in rng.sample(riddles, 70):
        messy = q.translate(PUNCT)
        messy = messy[:2] + " " + messy[2:] + rng.choice(["？", "。", "!", "——", " "])
        out.append(
            ("copy_punctuation", "same", qa(q, a), qa(messy, a + rng.choice(["", "。", "！"])))
        )
    return out


def near(riddles: list[tuple[str, str]], rng: random.Random) -> list:
    long = [(q, a) for q, a in riddles if len(q) >= 7]
    return [
        ("near_prefix", "same", qa(q, a), qa(rng.choice(LEADS) + q, a))
        for q, a in rng.sample(long, 80)
    ]


def shared_answer(data: list[dict], rng: random.Random) -> list:
    by = defaultdict(list)
    for d in data:
        by[d["answer"]].append(d["riddle"])
    out = []
    for answer, qs in sorted(by.items()):
        for q1, q2 in itertools.combinations(sorted(set(qs)), 2):
            if not _bigrams(q1) & _bigrams(q2) and "（" not in q1 + q2:
                out.append(("xiehouyu_shared_answer", "distinct", qa(q1, answer), qa(q2, answer)))
    return rng.sample(out, 150)


def template(teasers: list[tuple[str, str]], rng: random.Random) -> list:
    pairs = [
        (a, b)
        for a, b in itertools.combinations(teasers, 2)
        if a[1] != b[1]
        and "什么" in a[0]
        and "什么" in b[0]
        and len(_bigrams(a[0]) & _bigrams(b[0])) <= 2
    ]
    return [("template", "distinct", qa(*a), qa(*b)) for a, b in rng.sample(pairs, 70)]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def triples(pairs: list) -> list[dict]:
    out = []
    for group, label, a, b in pairs:
        if (
            label == "distinct"
            and a["answer"] == b["answer"]
            and group in ("hand", "xiehouyu_shared_answer")
        ):
            qa_, qc = a["question"], b["question"]
            bridge = qa_[: (len(qa_) + 1) // 2] + qc[len(qc) // 2 :]
            if bridge not in (qa_, qc):
                out.append({"a": a, "b": qa(bridge, a["answer"]), "c": b})
    return out


def teasers() -> list[tuple[str, str]]:
    data = json.loads((REPO / "raw" / "brain_teasers.json").read_text(encoding="utf-8"))
    rows = [
        (d.get("instruction", "") + d.get("input", ""), d.get("output", "")) for d in data["data"]
    ]
    return sorted({(q, str(a)) for q, a in rows if q and a and q != a})


def main() -> None:
    rng = random.Random(13)
    data = json.loads(XIEHOUYU.read_text(encoding="utf-8"))
    sayings = sorted({(d["riddle"], d["answer"]) for d in data if "（" not in d["riddle"]})
    bt = teasers()
    pairs = hand_pairs() + copies(sayings[::7] + bt, rng) + near(sayings[::5] + bt, rng)
    pairs += shared_answer(data, rng) + template(bt, rng)
    seen, rows = set(), []
    for group, label, a, b in pairs:
        key = json.dumps(sorted([a, b], key=json.dumps), ensure_ascii=False)
        if key not in seen and a != b:
            seen.add(key)
            rows.append(
                {"n": len(rows), "half": half(a, b), "group": group, "label": label, "a": a, "b": b}
            )
    tri = triples([(r["group"], r["label"], r["a"], r["b"]) for r in rows])
    tri = [{"n": k, "half": half(t["a"], t["c"]), **t} for k, t in enumerate(tri)]
    for name, items in (("dedupe_pairs.jsonl", rows), ("dedupe_triples.jsonl", tri)):
        text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items)
        (HERE / name).write_text(text, encoding="utf-8")
    print(f"{len(rows)} pairs, {len(tri)} triples")


if __name__ == "__main__":
    main()
