"""Inline SVG plots for the report: no JavaScript, no fonts, no files; hover shows values.

>>> svg = bars([("圣诞老人", 3), ("牙床", 1)], title="top answers")
>>> svg.startswith('<svg class="plot"')
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

FONT = 'font-family="inherit" font-size="12"'
GRID = "#e5e7eb"
INK = "#374151"
MUTED = "#6b7280"


def _svg(width: int, height: int, title: str, body: list[str], cls: str = "plot") -> str:
    return (
        f'<svg class="{cls}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def nice_step(span: float, target: int) -> int:
    """A 1-2-5 step that cuts `span` into at most about `target` pieces (at least 1)."""
    raw = max(span / max(target, 1), 1)
    power = 10 ** math.floor(math.log10(raw))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def clip(label: str, px: int) -> str:
    """Cut a label to about `px` pixels at 12px: Han characters count double."""
    width = 0.0
    for i, ch in enumerate(label):
        width += 12 if ord(ch) > 0x2E80 else 7
        if width > px:
            return label[: max(i - 1, 1)] + "…"
    return label


def bars(
    items: Sequence[tuple[str, int]],
    title: str,
    color: str = "#2563eb",
    width: int = 560,
    label_width: int = 180,
    total: int | None = None,
) -> str:
    """Horizontal bars, one per (label, value), value (and share of `total`) at the end."""
    row, top = 22, 6
    height = top * 2 + row * max(len(items), 1)
    peak = max((v for _, v in items), default=0) or 1
    room = width - label_width - 90
    body = []
    for i, (label, value) in enumerate(items):
        y = top + i * row
        w = max(room * value / peak, 1 if value else 0)
        share = f" ({100 * value / total:.1f}%)" if total else ""
        short = clip(label, label_width - 12)
        body.append(
            f"<g><title>{escape(label)}: {value}{share}</title>"
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" {FONT} '
            f'fill="{INK}">{escape(short)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" rx="3" '
            f'fill="{color}"/>'
            f'<text x="{label_width + w + 6:.1f}" y="{y + 15}" {FONT} fill="{MUTED}">'
            f"{value}{share}</text></g>"
        )
    return _svg(width, height, title, body)


def stacked(
    rows: Sequence[tuple[str, Sequence[tuple[str, int, str]]]],
    title: str,
    width: int = 560,
    label_width: int = 120,
    legend: bool = True,
) -> str:
    """One 100% bar per row: [(label, [(part, value, color), ...])], with a legend below."""
    row, top = 30, 6
    names = {name: color for _, parts in rows for name, _, color in parts} if legend else {}
    height = top + row * len(rows) + (26 if legend else 4)
    cls = "plot" if legend else "plot mini"
    room = width - label_width - 10
    body = []
    for i, (label, parts) in enumerate(rows):
        y, x = top + i * row, float(label_width)
        total = sum(v for _, v, _ in parts) or 1
        body.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end" {FONT} '
            f'fill="{INK}">{escape(label)}</text>'
        )
        for name, value, color in parts:
            w = room * value / total
            pct = 100 * value / total
            text = (
                (
                    f'<text x="{x + w / 2:.1f}" y="{y + 18}" text-anchor="middle" {FONT} '
                    f'fill="#fff">{pct:.0f}%</text>'
                )
                if w > 34
                else ""
            )
            body.append(
                f"<g><title>{escape(label)} · {escape(name)}: {value} ({pct:.1f}%)"
                f'</title><rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
                f'height="{row - 8}" fill="{color}"/>{text}</g>'
            )
            x += w
    x, y = float(label_width), top + row * len(rows) + 14
    for name, color in names.items():
        body.append(
            f'<rect x="{x:.0f}" y="{y - 9}" width="10" height="10" rx="2" '
            f'fill="{color}"/><text x="{x + 14:.0f}" y="{y}" {FONT} '
            f'fill="{INK}">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return _svg(width, height, title, body, cls)


def _bins(series: dict[str, Sequence[int]]) -> tuple[int, int]:
    """Bin width and count: up to the 99th percentile of the longest series, at most ~30 bins."""
    tops = [sorted(v)[max(math.ceil(0.99 * len(v)) - 1, 0)] for v in series.values() if v]
    upper = max(tops, default=1) + 1
    step = nice_step(upper, 30)
    return step, math.ceil(upper / step) + 1  # the last bin takes everything longer


def histogram(
    series: dict[str, Sequence[int]],
    colors: Sequence[str],
    title: str,
    xlabel: str,
    width: int = 560,
    height: int = 230,
) -> str:
    """Counts per length bin; the first series drawn wide behind, the next ones narrower."""
    step, n = _bins(series)
    counts = {}
    for name, values in series.items():
        c = [0] * n
        for v in values:
            c[min(v // step, n - 1)] += 1
        counts[name] = c
    left, right, top, bottom = 48, 12, 26, 36
    pw, ph = width - left - right, height - top - bottom
    peak = max((max(c) for c in counts.values()), default=0) or 1
    ystep = nice_step(peak, 4)
    ymax = math.ceil(peak / ystep) * ystep
    bw = pw / n
    body = []
    for t in range(0, ymax + 1, ystep):
        y = top + ph - ph * t / ymax
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}"/><text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'{FONT} fill="{MUTED}">{t}</text>'
        )
    for k, ((name, c), color) in enumerate(zip(counts.items(), colors, strict=False)):
        inset = bw * (0.08 if k == 0 else 0.28)
        for i, v in enumerate(c):
            if not v:
                continue
            lo = i * step
            span = f"≥{lo}" if i == n - 1 else f"{lo}–{lo + step - 1}"
            h = ph * v / ymax
            body.append(
                f'<rect x="{left + i * bw + inset:.1f}" y="{top + ph - h:.1f}" '
                f'width="{max(bw - 2 * inset, 1):.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{escape(name)}: {v} records with {span} chars</title></rect>"
            )
    every = max(1, math.ceil(n / 10))
    for i in sorted({*range(0, n - every // 2, every), n - 1}):  # the overflow bin always
        label = f"≥{i * step}" if i == n - 1 else str(i * step)
        body.append(
            f'<text x="{left + i * bw:.1f}" y="{top + ph + 16}" {FONT} '
            f'fill="{MUTED}">{label}</text>'
        )
    body.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 4}" text-anchor="middle" {FONT} '
        f'fill="{MUTED}">{escape(xlabel)}</text>'
    )
    x = float(left)
    for (name, values), color in zip(series.items(), colors, strict=False):
        body.append(
            f'<rect x="{x:.0f}" y="6" width="10" height="10" rx="2" fill="{color}"/>'
            f'<text x="{x + 14:.0f}" y="15" {FONT} fill="{INK}">{escape(name)} '
            f"(n={len(values)})</text>"
        )
        x += 40 + 7 * len(name) + 8 * len(str(len(values)))
    return _svg(width, height, title, body)
