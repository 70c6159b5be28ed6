"""The report page: one HTML file, inline CSS and SVG, no scripts, nothing fetched."""

from __future__ import annotations

from html import escape as e

from curate.stages.report import plots
from curate.stages.report.style import BLUE, CSS, GREEN, GREY, ORANGE, PURPLE, SCRIPT_COLORS


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """Cells are already-escaped HTML; columns in `numeric` are right-aligned."""
    th = "".join(f'<th class="{"n" if i in numeric else ""}">{h}</th>' for i, h in enumerate(head))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"n" if i in numeric else ""}">{c}</td>' for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _tags(counts: dict[str, int], cls: str = "") -> str:
    return "".join(f'<span class="tag {cls}">{e(k)} {v}</span>' for k, v in counts.items())


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def _kpis(stats: dict) -> str:
    first = stats["stages"][0]
    last = stats["stages"][-1]
    items = [
        ("records read", first["in"]),
        ("rejected by ingest", first["rejected"]),
        ("duplicates removed", stats["duplicates"]["removed"]),
        ("conflicts to review", len(stats["conflicts"])),
        ("final records", last["kept"]),
    ]
    items += [(f"{name} split", s["records"]) for name, s in stats["splits"].items()]
    return (
        '<div class="kpis">'
        + "".join(f'<div class="kpi"><b>{v:,}</b><span>{e(k)}</span></div>' for k, v in items)
        + "</div>"
    )


def _funnel(stats: dict, links: dict[str, str]) -> str:
    rows = [
        [
            e(s["stage"]),
            f"{s['in']:,}",
            f"{s['kept']:,}",
            f"{s['rejected']:,}",
            _pct(s["rejected"], s["in"]),
            _tags(s.get("reasons", {}), "warn"),
        ]
        for s in stats["stages"]
    ]
    bar = plots.stacked(
        [(s["stage"], [("kept", s["kept"], GREEN), _lost(s)]) for s in stats["stages"]],
        title="kept and rejected per stage",
        width=720,
    )
    return (
        "<section><h2>Pipeline: records in, kept, rejected per stage</h2>"
        + _table(["stage", "in", "kept", "rejected", "rate", "reasons"], rows, {1, 2, 3, 4})
        + bar
        + _links(links)
        + "</section>"
    )


def _lost(stage: dict) -> tuple[str, int, str]:
    """What a stage did not keep: duplicates removed by dedupe, rejects elsewhere."""
    if stage["stage"] == "dedupe":
        return ("removed as duplicates", stage["rejected"], BLUE)
    return ("rejected", stage["rejected"], ORANGE)


def _links(links: dict[str, str]) -> str:
    if not links:
        return ""
    items = " · ".join(
        f'<a href="{e(href)}"><code>{e(name)}</code></a>' for name, href in links.items()
    )
    return f'<p class="muted">files: {items}</p>'


def _sources(stats: dict) -> str:
    rows = []
    for s in stats["sources"]:
        info = " ".join(
            f'<span class="tag">{e(str(v))}</span>'
            for k, v in s["info"].items()
            if isinstance(v, (str, int)) and k in ("format", "encoding")
        )
        bar = plots.stacked(
            [
                (
                    "",
                    [
                        ("kept", s["kept"], GREEN),
                        ("duplicates", s["duplicates"], BLUE),
                        ("rejected", s["rejected"], ORANGE),
                    ],
                )
            ],
            title=f"{s['source']}: kept, duplicates, rejected",
            width=220,
            label_width=0,
            legend=False,
        )
        rows.append(
            [
                f"{e(s['source'])}<br>{info}",
                f"{s['read']:,}",
                f"{s['rejected']:,}",
                f"{s['duplicates']:,}",
                f"{s['kept']:,}",
                _pct(s["kept"], s["read"]),
                _tags(s["reasons"], "warn") + _tags(s["kinds"]),
                bar,
            ]
        )
    return (
        "<section><h2>Per source file</h2>"
        + _table(
            [
                "source",
                "read",
                "rejected",
                "duplicates",
                "kept",
                "kept %",
                "why",
                "kept · duplicates · rejected",
            ],
            rows,
            {1, 2, 3, 4, 5},
        )
        + "</section>"
    )


def _rejects(stats: dict) -> str:
    reasons = stats["rejects"]["reasons"]
    if not reasons:
        return '<section><h2>Rejected records</h2><p class="empty">none</p></section>'
    total = sum(reasons.values())
    rows = [
        [
            f'<span class="tag warn">{e(reason)}</span>',
            e(f"{r.get('stage')} · {r.get('source')}:{r.get('line')}"),
            e(r.get("detail") or ""),
            f'<div class="raw">{e(str(r.get("raw"))[:160])}</div>',
        ]
        for reason, rs in stats["rejects"]["examples"].items()
        for r in rs
    ]
    return (
        "<section><h2>Rejected records</h2>"
        + plots.bars(list(reasons.items()), "rejects by reason", ORANGE, total=total)
        + "<h3>Examples</h3>"
        + _table(["reason", "where", "detail", "raw"], rows)
        + "</section>"
    )


def _duplicates(stats: dict) -> str:
    d = stats["duplicates"]
    head = (
        f"<p>{d['removed']:,} of {d['in']:,} records removed as duplicates "
        f"(<b>{_pct(d['removed'], d['in'])}</b>).</p>"
    )
    if not d["removed"]:
        return f"<section><h2>Duplicates</h2>{head}</section>"
    kinds = plots.bars(list(d["kinds"].items()), "duplicates by kind", BLUE, total=d["removed"])
    rows = []
    for kind, rs in d["examples"].items():
        for r in rs:
            score = r.get("score")
            rows.append(
                [
                    f'<span class="tag">{e(kind)}</span>',
                    "" if score is None else f"{float(score):.2f}",
                    _qa(r.get("record"), r),
                    _qa(r.get("survivor"), r),
                ]
            )
    return (
        "<section><h2>Duplicates</h2>"
        + head
        + kinds
        + "<h3>Examples (removed → kept)</h3>"
        + _table(["kind", "score", "removed (as written)", "kept instead (as written)"], rows, {1})
        + "</section>"
    )


def _qa(pair: list | None, row: dict) -> str:
    """Question → answer, or the raw text of the rejects row when the id is unknown."""
    if pair:
        return f'{e(pair[0])} <span class="muted">→</span> {e(pair[1])}'
    return f'<div class="raw">{e(str(row.get("raw", ""))[:160])}</div>'


def _side(r: dict) -> str:
    """One side of a conflicting pair: question, its answer, where it came from."""
    where = f"{r.get('source')}:{r.get('line')}"
    return (
        f'{e(str(r.get("question")))} <span class="muted">→</span> '
        f'<span class="tag warn">{e(str(r.get("answer")))}</span>'
        f'<br><span class="muted">{e(where)}</span>'
    )


def _conflicts(stats: dict) -> str:
    """Pairs dedupe found with (nearly) the same question and different answers."""
    c = stats["conflicts"]
    if not c:
        return '<section><h2>Conflicts</h2><p class="empty">none found</p></section>'
    rows = [
        [
            _side(r.get("a", {})),
            _side(r.get("b", {})),
            "" if r.get("score") is None else f"{float(r['score']):.2f}",
            e(str(r.get("policy", ""))),
        ]
        for r in c[:30]
    ]
    more = f'<p class="muted">… and {len(c) - 30} more in deduped.conflicts.jsonl</p>' * (
        len(c) > 30
    )
    return (
        f"<section><h2>Conflicts: same question, different answers ({len(c)})</h2>"
        '<p class="muted">Review these before training; mark a pair as distinct in the '
        "dedupe overrides file to silence it.</p>"
        + _table(["record", "conflicts with", "score", "policy"], rows, {2})
        + more
        + "</section>"
    )


def _lengths(stats: dict, lengths: dict) -> str:
    plots_html = "".join(
        plots.histogram(
            series, [GREY, BLUE], f"{col} length in characters", f"{col} length (characters)"
        )
        for col, series in lengths.items()
    )
    rows = [
        [e(col), e(name), *(str(p[k]) for k in ("p50", "p90", "p99", "max"))]
        for col, series in stats["lengths"].items()
        for name, p in series.items()
    ]
    return (
        "<section><h2>Lengths: raw ingested records vs final records</h2>"
        f'<div class="grid2">{plots_html}</div>'
        + _table(["field", "records", "p50", "p90", "p99", "max"], rows, {2, 3, 4, 5})
        + "</section>"
    )


def _answers_and_scripts(stats: dict) -> str:
    top = plots.bars(
        [(a, n) for a, n in stats["top_answers"]], "most frequent answers", PURPLE, label_width=200
    )
    mix = plots.stacked(
        [
            (label, [(s, n, SCRIPT_COLORS[s]) for s, n in stats["script_mix"][key].items()])
            for key, label in (("raw", "raw text"), ("final", "final text"))
        ],
        title="script mix",
        width=540,
    )
    return (
        '<div class="grid2"><section><h2>Top answers (final)</h2>' + top + "</section>"
        "<section><h2>Script mix (OpenCC t2s test)</h2>"
        + mix
        + '<p class="muted">traditional: OpenCC t2s changes the text; simplified: it does '
        "not and the text has Han characters; other: no Han characters.</p></section></div>"
    )


def _splits(stats: dict) -> str:
    if not stats["splits"]:
        return ""
    rows = [
        [e(name), f"{s['records']:,}", " ".join(e(f) for f in s["files"])]
        for name, s in stats["splits"].items()
    ]
    params = stats.get("export_params") or {}
    keep = ("val_fraction", "seed", "group_by", "shard_size", "format")
    shown = " ".join(
        f'<span class="tag">{k}={e(str(params[k]))}</span>' for k in keep if k in params
    )
    return (
        f"<section><h2>Splits ({e(stats['export_dir'])})</h2><p>{shown}</p>"
        + _table(["split", "records", "files"], rows, {1})
        + "</section>"
    )


def render(stats: dict, lengths: dict, links: dict[str, str] | None = None) -> str:
    versions = " · ".join(f"{k} {v}" for k, v in stats.get("versions", {}).items())
    body = "".join(
        [
            f'<h1>curate report</h1><p class="sub">processed directory '
            f"<code>{e(stats['processed'])}</code></p>",
            _kpis(stats),
            _funnel(stats, links or {}),
            _sources(stats),
            _rejects(stats),
            _duplicates(stats),
            _conflicts(stats),
            _lengths(stats, lengths),
            _answers_and_scripts(stats),
            _splits(stats),
            f"<footer>{e(versions)}</footer>",
        ]
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>curate report: {e(stats['processed'])}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
