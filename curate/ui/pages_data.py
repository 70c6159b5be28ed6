"""Data, Report, Review and Export pages: reads through the library, jobs through `curate`."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from curate import io, stage
from curate.errors import CurateError, InputError, StageError
from curate.stages.export import exported
from curate.stages.export import read_manifest as read_export
from curate.stages.export.formats import FORMATS as EXPORT_FORMATS
from curate.ui import files, ledger
from curate.ui.jobs import curate_command
from curate.ui.web import check_csrf, guarded, render, start_job, state

FORMATS = tuple(EXPORT_FORMATS)
_SAVING = threading.Lock()


def _manifests(processed: Path, *names: str) -> tuple[dict, list[str]]:
    """Stage name -> its verified manifest (None when it has not run or is refused), and the
    message of each refused stage ("... is incomplete or from two runs; rerun ..."), which the
    page shows."""
    manifests, errors = {}, []
    for name in names:
        manifests[name] = None
        if not stage.present(processed, name):
            continue
        try:
            manifests[name] = stage.read_manifest(processed, name)
        except StageError as exc:
            errors.append(str(exc))
    return manifests, errors


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
    manifests, errors = await run_in_threadpool(_manifests, st.processed, "ingested")
    for entry in listing:  # detected with ingest's own reader
        entry |= await run_in_threadpool(files.detect, st.root / entry["path"], st.root)
    return render(
        request,
        "data.html",
        folders=await run_in_threadpool(files.folders, st.root),
        folder=files.rel(st.root, chosen),
        raw=files.rel(st.root, st.raw),
        listing=listing,
        ingest=manifests["ingested"],
        stage_errors=errors,
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
    saved, errors = [], []
    try:
        for upload_file in form.getlist("files"):
            try:  # each file on its own: one bad file does not stop the others
                saved.append(await run_in_threadpool(_save, st, upload_file, limit))
            except InputError as exc:
                errors.append(str(exc))
    finally:
        await form.close()
    if errors:
        return JSONResponse({"error": "\n".join(errors), "saved": saved}, status_code=400)
    return JSONResponse({"saved": saved})


def _save(st, upload_file, limit: int) -> dict:
    """One uploaded file into the raw folder under a free, cleaned name, or an InputError.
    A file ingest cannot read is not kept: it would stop every run on this folder."""
    name = files.clean_name(upload_file.filename or "")
    if (upload_file.size or 0) > limit:
        raise InputError(f"{name}: larger than {st.config.max_upload_mb} MB")
    st.raw.mkdir(parents=True, exist_ok=True)
    with _SAVING:  # two uploads of one name at once: each its own free name, neither replaced
        path = files.free_path(st.raw, name)
        with io.atomic_path(path) as tmp, open(tmp, "wb") as out:
            shutil.copyfileobj(upload_file.file, out)  # spooled to disk, not held in memory
    found = files.detect(path, st.root)
    if "error" in found:
        path.unlink()
        raise InputError(f"{name} was not saved: {found['error']}")
    return {"path": files.rel(st.root, path)} | found


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
    manifests, errors = await run_in_threadpool(_manifests, st.processed, "ingested", "deduped")
    stages = [
        {"stage": name} | m["counts"] | {"reasons": m.get("reasons", {})}
        for name, m in manifests.items()
        if m
    ]
    q = request.query_params
    rejects = await run_in_threadpool(
        ledger.rejects_page, st.processed, q.get("reason", ""), q.get("source", ""), _page(request)
    )
    return render(
        request,
        "report.html",
        stages=stages,
        dedupe=manifests["deduped"],
        stage_errors=errors,
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
    manifests, errors = await run_in_threadpool(_manifests, st.processed, "deduped")
    if tab == "conflicts":
        data = await run_in_threadpool(ledger.conflicts_page, st.processed, _page(request))
    else:
        tab = "clusters"
        data = await run_in_threadpool(
            ledger.clusters_page, st.processed, q.get("kind", ""), _page(request)
        )
    try:
        done = await run_in_threadpool(ledger.decided, st.processed)
    except CurateError as exc:  # a hand-edited overrides file: say where, as dedupe would
        done, errors = {}, [*errors, f"review decisions not read: {exc}"]
    return render(
        request,
        "review.html",
        tab=tab,
        kind=q.get("kind", ""),
        data=data,
        dedupe=manifests["deduped"],
        stage_errors=errors,
        decided=done,
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
    """Each export folder: its verified manifest and files, or the message that refuses it."""
    out = []
    base = st.processed / "export"
    for folder in sorted(p for p in base.iterdir() if exported(p)) if base.is_dir() else []:
        try:
            m, error = read_export(folder), None
        except StageError as exc:
            m, error = {}, str(exc)
        names = [f["path"] for f in m.get("files", [])] + (["manifest.json"] if m else [])
        names += [n for n in ("README.md",) if (folder / n).exists()]
        out.append(
            {
                "format": folder.name,
                "manifest": m,
                "error": error,
                "files": [files.rel(st.processed, folder / n) for n in names],
                "written": (folder / "manifest.json").stat().st_mtime if m else 0.0,
            }
        )
    return out


async def export_page(request: Request):
    st = state(request)
    exports = await run_in_threadpool(_exports, st)
    newest = max((e for e in exports if e["manifest"]), key=lambda e: e["written"], default=None)
    last = newest["manifest"].get("params", {}) if newest else {}  # the form starts from it
    errors = [e["error"] for e in exports if e["error"]]
    return render(
        request, "export.html", formats=FORMATS, exports=exports, last=last, stage_errors=errors
    )


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
