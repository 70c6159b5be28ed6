// curate ui: forms post with the CSRF token; jobs stream their output by server-sent events.
"use strict";
const csrf = document.querySelector('meta[name="csrf"]').content;
const $ = (sel) => document.querySelector(sel);

function flash(text, ok) {
  const box = $("#flash");
  box.textContent = text;
  box.className = ok ? "ok" : "";
  box.hidden = !text;
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "X-CSRF-Token": csrf },
    body: body,
    credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function formBody(form, submitter) {
  const params = new URLSearchParams(new FormData(form));
  if (submitter && submitter.name) params.set(submitter.name, submitter.value);
  return params;
}

document.querySelectorAll("form[data-job], form[data-action]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const isJob = form.hasAttribute("data-job");
    try {
      const data = await post(form.getAttribute("action"), formBody(form, event.submitter));
      if (isJob) { flash(""); watch(true); }
      else { flash(""); location.reload(); }
      return data;
    } catch (error) { flash(error.message); }
  });
});

$("#cancel").addEventListener("click", async () => {
  try { await post("/jobs/cancel", new URLSearchParams()); } catch (error) { flash(error.message); }
});

// -- the job panel -------------------------------------------------------------------
let source = null;

function drawLoss(points, val) {
  const svg = $("#loss");
  svg.toggleAttribute("hidden", !points.length);
  if (!points.length) return;
  const all = points.concat(val);
  const maxStep = Math.max(...all.map((p) => p[0]), 1);
  const losses = all.map((p) => p[1]);
  const hi = Math.max(...losses), lo = Math.min(...losses, 0);
  const x = (s) => 40 + (s / maxStep) * 550;
  const y = (l) => 150 - ((l - lo) / (hi - lo || 1)) * 135;
  const line = (ps, cls) =>
    `<polyline class="${cls}" points="${ps.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ")}"/>`;
  const last = points[points.length - 1];
  svg.innerHTML = line(points, "train") + (val.length ? line(val, "val") : "") +
    `<text x="4" y="14">${hi.toFixed(2)}</text><text x="4" y="150">${lo.toFixed(2)}</text>` +
    `<text x="420" y="14" id="loss-last">step ${last[0]} loss ${last[1].toFixed(4)}</text>`;
}

function show(snap) {
  const panel = $("#job");
  panel.hidden = false;
  panel.className = "job " + snap.status;
  $("#job-title").textContent = snap.title;
  $("#job-status").textContent = snap.status;
  $("#job-step").textContent = snap.step || "";
  $("#cancel").hidden = snap.status !== "running";
  $("#job-details").open = snap.status === "running" || snap.status === "failed";
  const log = $("#job-log");
  if (snap.lines.length) {
    log.textContent += snap.lines.join("\n") + "\n";
    const lines = log.textContent.split("\n");
    if (lines.length > 400) log.textContent = lines.slice(-400).join("\n");
    log.scrollTop = log.scrollHeight;
  }
  const bar = $("#job-progress");
  if (snap.progress && snap.status === "running") {
    bar.hidden = false; bar.max = snap.progress[1]; bar.value = snap.progress[0];
  } else { bar.hidden = true; }
  drawLoss(snap.loss || [], snap.val_loss || []);
  document.querySelectorAll("#steps li").forEach((li) => {
    const names = ["ingest", "dedupe", "export", "report"];
    const at = names.indexOf(snap.step), me = names.indexOf(li.dataset.step);
    li.className = snap.kind !== "run" ? "" :
      snap.status === "done" || me < at ? "done" : me === at ? "running" : "";
  });
  document.body.dataset.busy = snap.status === "running" ? "yes" : "no";
  document.querySelectorAll("form[data-job] button").forEach((b) => { b.disabled = snap.status === "running"; });
}

function watch(fresh) {
  if (source) source.close();
  if (fresh) $("#job-log").textContent = "";
  const since = fresh ? 0 : 1e12;  // a fresh job: everything; a reload: only new lines
  source = new EventSource("/jobs/events?since=" + (fresh ? 0 : since));
  source.onmessage = (event) => {
    const snap = JSON.parse(event.data);
    show(snap);
    if (snap.status !== "running") {
      source.close();
      source = null;
      if (snap.status === "done") setTimeout(() => location.reload(), 300);
      else { document.body.dataset.jobEnded = snap.status; flash(`${snap.title}: ${snap.status}`); }
    }
  };
}

if (document.body.dataset.busy === "yes") watch(true);

// -- uploads (Data page) -------------------------------------------------------------
const drop = $("#drop");
if (drop) {
  const kept = sessionStorage.getItem("flash");
  if (kept) { sessionStorage.removeItem("flash"); flash(kept); }
  const send = (fileList) => {
    if (!fileList.length) return;
    const body = new FormData();
    for (const f of fileList) body.append("files", f, f.name);
    const bar = $("#upload-progress");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/data/upload");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (e) => { bar.hidden = false; bar.max = e.total; bar.value = e.loaded; };
    xhr.onload = () => {
      bar.hidden = true;
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = { error: xhr.statusText }; }
      if (xhr.status === 200) location.reload();
      else if (data.saved && data.saved.length) {
        // some files were saved: reload to list them, and say afterwards which were not
        sessionStorage.setItem("flash", data.error);
        location.reload();
      } else flash(data.error || xhr.statusText);
    };
    xhr.send(body);
  };
  $("#files").addEventListener("change", (e) => send(e.target.files));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); send(e.dataTransfer.files); });
}
