"""Data, Report, Review and Export pages: reads through the library, jobs through `curate`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from curate import io
from curate.errors import InputError
from curate.stages.export.formats import FORMATS as EXPORT_FORMATS
from curate.ui import files, ledger
from curate.ui.jobs import curate_command
from curate.ui.web import check_csrf, guarded, render, start_job, state

FORMATS = tuple(EXPORT_FORMATS)


def _manifest(processed: Path, stage: str) -> dict | None:
    path = io.stage_path(processed, stage, "manifest.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _page(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


# -- Data ------------------------------------------------------------------------------


async def data_page(request: Request):
    st = state(request)
    folder = request.query_params.get("folder") or files.rel(st.root, st.raw)
    try:
        chosen = files.inside(st.root, folder)
    except InputError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    listing = await run_in_threadpool(files.raw_files, st.root, chosen)
    for entry in listing:  # detected with ingest's own reader
        entry |= await run_in_threadpool(files.detect, st.root / entry["path"])
    return render(
        request,
        "data.html",
        folders=await run_in_threadpool(files.folders, st.root),
        folder=files.rel(st.root, chosen),
        raw=files.rel(st.root, st.raw),
        listing=listing,
        ingest=_manifest(st.processed, "ingested"),
        max_mb=st.config.max_upload_mb,
    )


async def upload(request: Request):
    """Multipart upload into the raw folder; refused above the size limit."""
    try:
        check_csrf(request)
    except PermissionError as exc:
        return JSONResponse({"error": str(exc)}, status_code=403)
    st = state(request)
    limit = st.config.max_upload_mb * 1024 * 1024
    if int(request.headers.get("content-length") or 0) > limit + 65536:
        too_big = f"upload larger than {st.config.max_upload_mb} MB (curate ui --max-upload-mb)"
        return JSONResponse({"error": too_big}, status_code=413)
    form = await request.form(max_part_size=limit + 1)
    saved = []
    try:
        for upload_file in form.getlist("files"):
            name = files.clean_name(upload_file.filename or "")
            if (upload_file.size or 0) > limit:
                raise InputError(f"{name}: larger than {st.config.max_upload_mb} MB")
            st.raw.mkdir(parents=True, exist_ok=True)
            path = files.free_path(st.raw, name)
            with io.atomic_path(path) as tmp, open(tmp, "wb") as out:
                shutil.copyfileobj(upload_file.file, out)  # spooled to disk, not held in memory
            saved.append({"path": files.rel(st.root, path)} | files.detect(path))
    except InputError as exc:
        return JSONResponse({"error": str(exc), "saved": saved}, status_code=400)
    finally:
        await form.close()
    return JSONResponse({"saved": saved})


@guarded
async def run_pipeline(request: Request, form):
    st = state(request)
    folder = files.inside(st.root, form.get("folder") or files.rel(st.root, st.raw))
    processed = files.rel(st.root, st.processed)
    source = files.rel(st.root, folder)
    argv = curate_command("run", source, "--processed", processed)
    return start_job(request, f"run {source}", [argv], "run")


# -- Report ----------------------------------------------------------------------------


async def report_page(request: Request):
    st = state(request)
    stages = []
    for stage in ("ingested", "deduped"):
        m = _manifest(st.processed, stage)
        if m:
            stages.append({"stage": stage} | m["counts"] | {"reasons": m.get("reasons", {})})
    q = request.query_params
    rejects = await run_in_threadpool(
        ledger.rejects_page, st.processed, q.get("reason", ""), q.get("source", ""), _page(request)
    )
    return render(
        request,
        "report.html",
        stages=stages,
        dedupe=_manifest(st.processed, "deduped"),
        has_html=(st.processed / "report.html").exists(),
        rejects=rejects,
        reason=q.get("reason", ""),
        source=q.get("source", ""),
    )


# -- Review ----------------------------------------------------------------------------


async def review_page(request: Request):
    st = state(request)
    q = request.query_params
    tab = q.get("tab", "clusters")
    if tab == "conflicts":
        data = await run_in_threadpool(ledger.conflicts_page, st.processed, _page(request))
    else:
        tab = "clusters"
        data = await run_in_threadpool(
            ledger.clusters_page, st.processed, q.get("kind", ""), _page(request)
        )
    return render(
        request,
        "review.html",
        tab=tab,
        kind=q.get("kind", ""),
        data=data,
        dedupe=_manifest(st.processed, "deduped"),
        decided=ledger.decided(st.processed),
        key=ledger.decision_key,
        overrides=files.rel(st.root, ledger.overrides_path(st.processed)),
    )


@guarded
async def decide(request: Request, form):
    side = {
        s: {"question": form.get(f"{s}_question", ""), "answer": form.get(f"{s}_answer", "")}
        for s in ("a", "b")
    }
    row = ledger.decide(state(request).processed, form.get("decision", ""), side["a"], side["b"])
    return JSONResponse({"written": row})


@guarded
async def rerun_dedupe(request: Request, form):
    processed = files.rel(state(request).root, state(request).processed)
    argv = curate_command("dedupe", "--processed", processed)
    return start_job(request, "dedupe (with review decisions)", [argv], "dedupe")


# -- Export ----------------------------------------------------------------------------


def _exports(st) -> list[dict]:
    out = []
    base = st.processed / "export"
    for manifest in sorted(base.glob("*/manifest.json")) if base.is_dir() else []:
        m = json.loads(manifest.read_text(encoding="utf-8"))
        folder = manifest.parent
        names = [f["path"] for f in m.get("files", [])] + ["manifest.json"]
        names += [n for n in ("README.md", "dataset_info.json") if (folder / n).exists()]
        out.append(
            {
                "format": folder.name,
                "manifest": m,
                "files": [files.rel(st.processed, folder / n) for n in names],
            }
        )
    return out


async def export_page(request: Request):
    st = state(request)
    exports = _exports(st)
    last = exports[0]["manifest"].get("params", {}) if exports else {}
    return render(request, "export.html", formats=FORMATS, exports=exports, last=last)


@guarded
async def run_export(request: Request, form):
    st = state(request)
    fmt = form.get("format", "jsonl")
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {FORMATS}")
    try:
        fraction = float(form.get("val_fraction") or 0.1)
    except ValueError:
        raise InputError("validation fraction must be a number, e.g. 0.1") from None
    processed = files.rel(st.root, st.processed)
    out = f"{processed}/export/{fmt}"
    args = ["export", "--processed", processed, "--format", fmt, "--out", out]
    args += ["--val-fraction", str(fraction)]
    if (form.get("system_prompt") or "").strip():
        args += ["--system-prompt", form["system_prompt"]]
    if (form.get("user_template") or "").strip():
        args += ["--user-template", form["user_template"]]
    report = ["report", "--processed", processed, "--export-dir", out]
    return start_job(
        request, f"export {fmt}", [curate_command(*args), curate_command(*report)], "export"
    )


def routes() -> list[Route]:
    return [
        Route("/data", data_page),
        Route("/data/upload", upload, methods=["POST"]),
        Route("/data/run", run_pipeline, methods=["POST"]),
        Route("/report", report_page),
        Route("/review", review_page),
        Route("/review/decide", decide, methods=["POST"]),
        Route("/review/rerun", rerun_dedupe, methods=["POST"]),
        Route("/export", export_page),
        Route("/export/run", run_export, methods=["POST"]),
    ]
