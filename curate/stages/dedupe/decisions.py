"""Review decisions (the overrides file): what a person decided about records, by content.

One JSON line per decision. `a` and `b` name records by question text (matched on its match
key, so a line survives renamed folders) or by record id; `a_answer` / `b_answer`, when given,
narrow a question to the records with that answer (match key too):

    {"a": Q, "b": Q2, "decision": "distinct"}   a and b are different riddles: never merged
    {"a": Q, "a_answer": A, "decision": "survivor"}   a is the copy to keep: it ranks first
        among the records it matches (`b`, optional: the record it was merged into)
    {"a": Q, "a_answer": A, "b": Q, "b_answer": B, "decision": "answer"}   a conflict: a's
        answer is right; b is removed as `conflict` of a (a is also ranked first, so kept)

Applied deterministically, whatever the order of the lines: records a `survivor` or `answer`
decision names are ranked before all others (external sets still first; among themselves, in
survivor order, the copy whose display text is the one written first), records an `answer`
decision rules out after all others. A side that names no record, an `answer` pair that does
not conflict, and a decision a later step overrules (an external set, another decision) warn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from curate.errors import ConfigError, InputError
from curate.normalize import match_key

KINDS = ("distinct", "survivor", "answer")
# Survivor-order tiers (stable: survivor order within a tier): external records, the chosen
# copy (display text as written), other records a decision chose, the rest, ruled-out answers.
_EXTERNAL, _CHOSEN_TEXT, _CHOSEN, _REST, _RULED_OUT = range(5)
_FORMAT = (
    '{"a": QUESTION_OR_ID, "b": ..., "decision": "distinct"|"survivor"|"answer", '
    '"a_answer": ..., "b_answer": ...}'
)


@dataclass(frozen=True)
class Decision:
    kind: str
    a: str
    b: str = ""  # optional for `survivor`
    a_answer: str = ""
    b_answer: str = ""


# The keys a line may have: a misspelt one (`decison`, `a_anwser`) would otherwise be
# ignored, and the line read as a `distinct` decision or about every answer of a question.
_KEYS = ("a", "b", "decision", "a_answer", "b_answer")


def parse(row: dict) -> Decision:
    """One overrides line (a dict) as a Decision; ValueError says what is wrong."""
    if not isinstance(row, dict) or not str(row.get("a") or "").strip():
        raise ValueError('"a" is missing')
    unknown = [k for k in row if k not in _KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; a line has only {', '.join(_KEYS)}")
    kind = row.get("decision", "distinct")
    if kind not in KINDS:
        raise ValueError(f"decision must be one of {KINDS}, got {kind!r}")
    text = {k: str(row.get(k) or "").strip() for k in ("a", "b", "a_answer", "b_answer")}
    if kind != "survivor" and not text["b"]:
        raise ValueError(f'"b" is missing (a {kind!r} decision is about two records)')
    if kind == "answer" and not (text["a_answer"] and text["b_answer"]):
        raise ValueError('an "answer" decision needs "a_answer" (right) and "b_answer" (wrong)')
    return Decision(kind, **text)


def read(path: Path | None, required: bool = False) -> list[Decision]:
    """The decisions in an overrides file; a missing default file means none, a missing file
    the user named (`required`) is an error."""
    if path is None or not Path(path).exists():
        if required:
            raise InputError(f"{path}: no such overrides file (--overrides)")
        return []
    try:  # utf-8-sig: an editor's byte-order mark is no error
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the overrides file as UTF-8"
        ) from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(parse(json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{path}:{n}: expected {_FORMAT}, got {line.strip()[:80]!r} ({exc})"
            ) from None
    return out


def match(decisions: list[Decision], frame: pl.DataFrame, df: pl.DataFrame) -> pl.DataFrame:
    """Input rows each decision side names (n, side, row, exact): by record id when the
    reference is one, else by question key (and answer key when given); `exact`: the display
    question and answer are the ones written. `frame`: the ranked keys (`rank.ranked`)."""
    sides = [
        (n, side, ref, answer)
        for n, d in enumerate(decisions)
        for side, ref, answer in (("a", d.a, d.a_answer), ("b", d.b, d.b_answer))
        if ref
    ]
    schema = {"n": pl.Int64, "side": pl.String, "row": pl.Int64, "exact": pl.Boolean}
    if not sides:
        return pl.DataFrame(schema=schema)
    want = pl.DataFrame(
        {
            "n": [s[0] for s in sides],
            "side": [s[1] for s in sides],
            "ref": [s[2] for s in sides],
            "answer": [s[3] for s in sides],
            "qkey": [match_key(s[2]) for s in sides],
            "akey": [match_key(s[3]) or None for s in sides],
        }
    )
    records = df.select("id").with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    by_id = want.join(records, left_on="ref", right_on="id")
    keyed = frame.select(pl.col("_row").cast(pl.Int64).alias("row"), "qkey", "akey")
    by_key = (
        want.join(by_id.select("n", "side").unique(), on=["n", "side"], how="anti")
        .join(keyed, on="qkey", suffix="_record")
        .filter(pl.col("akey").is_null() | (pl.col("akey") == pl.col("akey_record")))
    )
    hits = pl.concat(
        [
            by_id.select("n", "side", "ref", "answer", "row"),
            by_key.select("n", "side", "ref", "answer", "row"),
        ]
    )
    rows = hits["row"].to_numpy()
    exact = (df["question"].gather(rows) == hits["ref"]) & (
        (hits["answer"] == "") | (df["answer"].gather(rows) == hits["answer"])
    )
    return hits.select("n", "side", "row").with_columns(exact=exact).sort("n", "side", "row")


def inseparable(decisions: list[Decision], nodes: dict) -> tuple[str, ...]:
    """A warning per `distinct` decision whose two sides are exact copies of one record (the
    same question and answer keys: punctuation, spaces, widths and case ignored)."""
    out = []
    for n, d in enumerate(decisions):
        na, nb = nodes.get((n, "a")), nodes.get((n, "b"))
        if d.kind != "distinct" or na is None or nb is None:
            continue
        if na.size == 1 and set(na.tolist()) == set(nb.tolist()):
            out.append(
                f"distinct decision {d.a[:30]!r} / {d.b[:30]!r}: the two are exact copies "
                "(punctuation, spaces, widths and case are ignored); it has no effect"
            )
    return tuple(out)


def unmatched(decisions: list[Decision], hits: pl.DataFrame) -> tuple[str, ...]:
    """A warning per side that names no record (a stale id, a changed question or answer)."""
    found = set(hits.select("n", "side").iter_rows())
    out = []
    for n, d in enumerate(decisions):
        for side, ref, answer in (("a", d.a, d.a_answer), ("b", d.b, d.b_answer)):
            if ref and (n, side) not in found:
                named = f"{ref[:40]!r}" + (f" → {answer[:20]!r}" if answer else "")
                out.append(f"override {named} matches no record id or question; it has no effect")
    return tuple(dict.fromkeys(out))


def promote(
    frame: pl.DataFrame, decisions: list[Decision], hits: pl.DataFrame, n_own: int
) -> pl.DataFrame:
    """The ranked frame with the records `survivor` and `answer` decisions choose first and
    those `answer` decisions rule out last (stable: survivor order within each tier)."""
    kind = pl.Series([d.kind for d in decisions], dtype=pl.String)
    hits = hits.with_columns(kind=kind.gather(hits["n"]) if len(decisions) else pl.lit(""))
    chosen = hits.filter(pl.col("kind").is_in(["survivor", "answer"]) & (pl.col("side") == "a"))
    ruled_out = hits.filter((pl.col("kind") == "answer") & (pl.col("side") == "b"))
    if not (chosen.height or ruled_out.height):
        return frame
    tier = np.full(frame.height, _REST, dtype=np.int64)  # by input row
    tier[ruled_out["row"].to_numpy()] = _RULED_OUT
    tier[chosen["row"].to_numpy()] = _CHOSEN  # a contradiction: chosen wins, and warns later
    tier[chosen.filter("exact")["row"].to_numpy()] = _CHOSEN_TEXT
    tier[n_own:] = _EXTERNAL
    order = np.argsort(tier[frame["_row"].to_numpy()], kind="stable")
    return frame[order]


def kept_first(decisions: list[Decision], nodes: dict, ids, n_own: int) -> np.ndarray:
    """Which nodes keep their place first in the survivor order whatever bridges they make
    (`bridges.py`): records of an external set (what matches one is contaminated) and those a
    `survivor` or `answer` decision chose (`nodes`: `side_nodes`)."""
    fixed = ids.row[ids.node_first] >= n_own
    for (n, side), found in nodes.items():
        if side == "a" and decisions[n].kind in ("survivor", "answer"):
            fixed[found] = True
    return fixed


def side_nodes(hits: pl.DataFrame, ids) -> dict[tuple[int, str], np.ndarray]:
    """(decision, side) -> nodes of the records it names (`ids`: graph.Ids)."""
    if not hits.height:
        return {}
    rank = np.empty_like(ids.row)
    rank[ids.row] = np.arange(ids.row.size)  # input row -> ranked row
    node = ids.rec_node[rank[hits["row"].to_numpy()]]
    grouped = hits.select("n", "side", node=pl.Series(node)).group_by("n", "side").agg("node")
    return {
        (n, side): np.unique(np.asarray(found, dtype=np.int64))
        for n, side, found in grouped.iter_rows()
    }


def forbidden(decisions: list[Decision], nodes: dict) -> set:
    """Node pairs (u < v) that `distinct` decisions keep apart (`nodes`: `side_nodes`)."""
    out: set = set()
    none = np.empty(0, dtype=np.int64)
    for n, d in enumerate(decisions):
        if d.kind == "distinct":
            na, nb = nodes.get((n, "a"), none).tolist(), nodes.get((n, "b"), none).tolist()
            out |= {(min(x, y), max(x, y)) for x in na for y in nb if x != y}
    return out


def resolved(
    decisions: list[Decision], nodes: dict, edges: pl.DataFrame
) -> tuple[pl.DataFrame, tuple[int, ...], tuple[str, ...]]:
    """The conflict edges `answer` decisions settle (b's records then join a's as `conflict`),
    the decisions that settled one, and a warning per decision whose pair does not conflict."""
    conflict = edges.filter(pl.col("kind") == "conflict")
    picked, applied, warnings = [], [], []
    for n, d in enumerate(decisions):
        if d.kind != "answer":
            continue
        na, nb = nodes.get((n, "a")), nodes.get((n, "b"))
        if na is None or nb is None:
            continue  # `unmatched` warns
        u, v = pl.col("u"), pl.col("v")
        hit = conflict.filter((u.is_in(na) & v.is_in(nb)) | (u.is_in(nb) & v.is_in(na)))
        if hit.height:
            picked.append(hit)
            applied.append(n)
        else:
            warnings.append(
                f"answer decision {d.a[:30]!r} → {d.a_answer[:20]!r} over {d.b_answer[:20]!r}: "
                "the two records are not a conflict in this run; it has no effect"
            )
    merged = pl.concat(picked).unique(["u", "v"]).sort("u", "v") if picked else conflict.head(0)
    return merged, tuple(applied), tuple(warnings)


def outcome(
    decisions: list[Decision], hits: pl.DataFrame, out: pl.DataFrame, applied: tuple[int, ...]
) -> tuple[str, ...]:
    """Warnings for decisions the run could not follow: a chosen survivor still removed (an
    external set or another decision ranks first), a ruled-out answer still kept."""
    if not hits.height:
        return ()
    removed = out["removed"].to_numpy()
    warnings = []
    for n, d in enumerate(decisions):
        side = hits.filter(
            (pl.col("n") == n) & (pl.col("side") == "a") & (pl.col("row") < out.height)
        )
        a, written = side["row"].to_numpy(), side.filter("exact")["row"].to_numpy()
        if d.kind == "survivor" and a.size and removed[a].all():
            first = out.row(int(a[0]), named=True)
            warnings.append(
                f"survivor decision {d.a[:30]!r}: still removed ({first['kind']} of "
                f"{first['survivor_id']}): an external set or another decision ranks first"
            )
        elif d.kind == "survivor" and written.size and removed[written].all():
            first = out.row(int(written[0]), named=True)
            warnings.append(
                f"survivor decision {d.a[:30]!r} → {d.a_answer[:20]!r}: that copy is removed "
                f"(exact of {first['survivor_id']}): another decision chose another copy"
            )
        if d.kind == "answer" and n in applied:
            b = hits.filter((pl.col("n") == n) & (pl.col("side") == "b"))["row"].to_numpy()
            b = b[b < out.height]
            if b.size and not removed[b].all():
                warnings.append(
                    f"answer decision {d.a[:30]!r}: {d.b_answer[:20]!r} is still kept "
                    "(another decision keeps it); see deduped.conflicts.jsonl"
                )
    return tuple(warnings)
