"""The report's look: palette and stylesheet, inlined into report.html."""

BLUE, GREEN, ORANGE, RED, GREY, PURPLE = (
    "#2563eb",
    "#16a34a",
    "#ea580c",
    "#dc2626",
    "#9ca3af",
    "#7c3aed",
)
KIND_COLORS = {"exact": "#0891b2", "near_duplicate": BLUE, "variant": PURPLE, "conflict": RED}
SCRIPT_COLORS = {"simplified": GREEN, "traditional": ORANGE, "other": GREY}

CSS = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f9fafb; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font: 14px/1.5 system-ui,
  -apple-system, "Segoe UI", Roboto, "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
  "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 0 0 12px; }
.sub { color: var(--muted); margin: 0 0 20px; }
.kpis { display:grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap:12px;
  margin-bottom: 20px; }
.kpi { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:12px 14px; }
.kpi b { display:block; font-size:26px; font-variant-numeric: tabular-nums; }
.kpi span { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:18px 20px; margin-bottom:18px; }
.grid2 { display:grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr)); gap:18px; }
table { border-collapse: collapse; width:100%; font-variant-numeric: tabular-nums; }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line);
  vertical-align: top; }
th { font-size:12px; color:var(--muted); font-weight:600; text-transform:uppercase; }
td.n, th.n { text-align:right; }
.tag { display:inline-block; padding:0 7px; border-radius:9px; background:#eef2ff;
  color:#3730a3; font-size:12px; margin:1px 4px 1px 0; white-space:nowrap; }
.tag.warn { background:#fff7ed; color:#9a3412; }
.raw { font-family: ui-monospace, monospace; font-size:12px; color:#374151;
  max-width:520px; overflow-wrap:anywhere; }
.muted { color: var(--muted); } .empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; }
a { color: #2563eb; text-decoration: none; } a:hover { text-decoration: underline; }
"""
