"""Handlers through Starlette's test client: CSRF, paths, uploads, jobs, the key, review files."""

from __future__ import annotations

import json
import re
import sys

import pytest

pytest.importorskip("starlette")
from click.testing import CliRunner  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from curate.ui import UiConfig, create_app, ledger  # noqa: E402

KEY = "sk-secret-0123456789"


@pytest.fixture
def client(project):
    app = create_app(UiConfig(root=project, max_upload_mb=1))
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:  # the Host a browser sends
        c.token = re.search(r'name="csrf" content="([^"]+)"', c.get("/data").text)[1]
        c.runner = app.state.curate.runner
        yield c
    app.state.curate.runner.cancel()


def test_every_page_renders_before_any_stage_ran(client):
    for page in (
        "/data",
        "/report",
        "/review",
        "/review?tab=conflicts",
        "/export",
        "/train",
        "/eval",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert "<nav>" in response.text and "http" not in response.text.split("<main>")[0].lower()


def test_state_changing_requests_need_the_session_token(client, project):
    bad = {"decision": "distinct", "a_question": "甲", "b_question": "乙"}
    assert client.post("/review/decide", data=bad).status_code == 403
    assert client.post("/review/decide", data=bad | {"csrf": "forged"}).status_code == 403
    other = TestClient(client.app, base_url=client.base_url)  # another browser: own session
    assert other.post("/review/decide", data=bad | {"csrf": client.token}).status_code == 403
    assert not (project / "dedupe.overrides.jsonl").exists()
    ok = client.post("/review/decide", data=bad | {"csrf": client.token})
    assert ok.status_code == 200
    assert client.post("/data/upload", files={"files": ("a.json", b"[]")}).status_code == 403


def test_only_requests_addressed_to_loopback_are_served(project):
    """DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host."""
    app = create_app(UiConfig(root=project))  # 127.0.0.1:8765
    for host, status in [
        ("http://127.0.0.1:8765", 200),
        ("http://localhost:8765", 200),
        ("http://[::1]:8765", 200),
        ("http://evil.example:8765", 400),
        ("http://127.0.0.1.evil.example:8765", 400),
    ]:
        with TestClient(app, base_url=host) as c:
            response = c.get("/data")
            assert response.status_code == status, host
            form = {"a_question": "甲", "b_question": "乙", "decision": "distinct"}
            refused = c.post("/review/decide", data=form).status_code  # no CSRF token either
            assert refused == (403 if status == 200 else 400), host
    assert not (project / "dedupe.overrides.jsonl").exists()
    assert "Invalid host header" in TestClient(app, base_url="http://evil.example").get("/").text
    exposed = create_app(UiConfig(root=project, host="0.0.0.0"))  # warned about; names unknown
    assert TestClient(exposed, base_url="http://box.lan:8765").get("/data").status_code == 200


def test_host_is_checked_against_the_listening_port(project, serve):
    import http.client

    url, _ = serve(UiConfig(root=project, port=0))  # an ephemeral port, as in the tests
    port = int(url.rsplit(":", 1)[1])
    wrong_port = port + 1 if port < 65535 else port - 1  # another loopback service's address
    cases = [
        (f"127.0.0.1:{port}", 200),
        (f"evil.example:{port}", 400),
        (f"localhost:{wrong_port}", 400),
    ]
    for host, status in cases:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/data", headers={"Host": host})
        assert conn.getresponse().status == status, host
        conn.close()


def test_no_path_traversal(client, project):
    (project / "secret.txt").write_text("top secret", encoding="utf-8")
    (project / "processed" / "ok.json").write_text("{}", encoding="utf-8")
    assert client.get("/files/ok.json").status_code == 200
    for path in ("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/..%2fsecret.txt"):
        response = client.get(path)
        assert response.status_code == 404 and "top secret" not in response.text, path
    assert client.get("/data?folder=../..").status_code == 400
    run = client.post("/data/run", data={"folder": "/etc", "csrf": client.token})
    assert run.status_code == 400 and "outside" in run.json()["error"]


def test_upload_cleans_names_refuses_big_and_unknown_files(client, project):
    head = {"X-CSRF-Token": client.token}
    ok = client.post("/data/upload", headers=head, files={"files": ("../../x/谜 语.json", b"[]")})
    assert ok.status_code == 200 and ok.json()["saved"][0]["path"] == "raw/谜_语.json"
    again = client.post("/data/upload", headers=head, files={"files": ("谜 语.json", b"[]")})
    assert again.json()["saved"][0]["path"] == "raw/谜_语-1.json"  # never overwrites
    big = client.post("/data/upload", headers=head, files={"files": ("big.csv", b"a" * 1_200_000)})
    assert big.status_code == 413 and "1 MB" in big.json()["error"]
    exe = client.post("/data/upload", headers=head, files={"files": ("run.sh", b"rm -rf /")})
    assert exe.status_code == 400 and not (project / "raw" / "run.sh").exists()
    assert sorted(p.name for p in (project / "raw").iterdir()) == ["谜_语-1.json", "谜_语.json"]


def test_one_job_at_a_time_and_cancel(client):
    sleeper = [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"]
    client.runner.start("sleep", [sleeper])
    busy = client.post("/export/run", data={"csrf": client.token})
    assert busy.status_code == 409 and "sleep" in busy.json()["error"]
    assert 'data-busy="yes"' in client.get("/export").text
    assert client.post("/jobs/cancel", data={"csrf": client.token}).json()["cancelled"]
    job = client.runner.wait(20)
    assert job.status == "cancelled" and job.returncode != 0


def test_typed_key_stays_in_memory_and_out_of_pages_and_output(client, project):
    assert client.post("/train/key", data={"api_key": KEY, "csrf": client.token}).status_code == 200
    page = client.get("/train").text
    assert KEY not in page and "typed in this session" in page
    printer = [sys.executable, "-c", "import os; print('key=' + os.environ['SILICONFLOW_API_KEY'])"]
    client.runner.start("print the key", [printer])
    job = client.runner.wait(30)
    assert job.status == "done" and "key=***" in job.lines
    assert KEY not in json.dumps(job.snapshot()) and KEY not in client.get("/train").text
    assert not any(KEY in p.read_text(errors="ignore") for p in project.rglob("*") if p.is_file())


def test_review_decisions_are_content_keyed_lines_of_the_overrides_file(client, project):
    form = {"csrf": client.token, "a_question": "什么床不能睡？", "a_answer": "牙床"}
    form |= {"b_question": "什么酒不能喝？", "b_answer": "碘酒", "decision": "distinct"}
    assert client.post("/review/decide", data=form).status_code == 200
    bad = client.post("/review/decide", data=form | {"decision": "merge"})
    assert bad.status_code == 400 and "decision" in bad.json()["error"]
    lines = (project / "dedupe.overrides.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "a": "什么床不能睡？",
            "b": "什么酒不能喝？",
            "decision": "distinct",
            "a_answer": "牙床",
            "b_answer": "碘酒",
        }
    ]
    key = ledger.decision_key(
        {"question": "什么酒不能喝？", "answer": "碘酒"},
        {"question": "什么床不能睡？", "answer": "牙床"},
    )
    assert ledger.decided(project / "processed") == {key: "distinct"}


def test_every_review_decision_is_a_line_dedupe_reads(client, project):
    """Each kind the page offers is written as a line `curate dedupe` accepts; a line it would
    refuse (an answer decision without the answers) is refused here and nothing is written."""
    from curate.stages.dedupe import decisions

    form = {"csrf": client.token, "a_question": "什么门永远关不上？", "a_answer": "球门"}
    form |= {"b_question": "什么门永远关不上", "b_answer": "足球门"}
    for kind in ledger.DECISIONS:
        assert client.post("/review/decide", data=form | {"decision": kind}).status_code == 200
    no_answer = client.post("/review/decide", data=form | {"decision": "answer", "b_answer": ""})
    assert no_answer.status_code == 400 and "b_answer" in no_answer.json()["error"]
    read = decisions.read(project / "dedupe.overrides.jsonl")
    assert [d.kind for d in read] == ["distinct", "survivor", "answer"]
    assert read[2] == decisions.Decision(
        "answer", "什么门永远关不上？", "什么门永远关不上", "球门", "足球门"
    )


def test_hand_edited_overrides_file_bom_read_and_bad_line_shown(client, project):
    """A BOM (an editor's) is no error; a line dedupe would refuse is shown on the Review page
    with file, line and the expected form, as `curate dedupe` says it, and nothing is appended
    to the file until it is fixed."""
    good = {"a": "什么床不能睡？", "b": "什么酒不能喝？", "a_answer": "牙床", "b_answer": "碘酒"}
    path = project / "dedupe.overrides.jsonl"
    path.write_text("\ufeff" + json.dumps(good, ensure_ascii=False) + "\n", encoding="utf-8")
    page = client.get("/review")
    assert page.status_code == 200 and "Rerun dedupe with 1 decision(s)" in page.text
    key = ledger.decision_key(
        {"question": "什么床不能睡？", "answer": "牙床"},
        {"question": "什么酒不能喝？", "answer": "碘酒"},
    )
    assert ledger.decided(project / "processed") == {key: "distinct"}
    with path.open("a", encoding="utf-8") as f:
        f.write('{"a": "x", "b": "y", "decison": "distinct"}\n')
    page = client.get("/review")
    assert page.status_code == 200
    shown = re.search(r'<p class="bad stage-error" role="alert">(.*?)</p>', page.text, re.S)
    assert shown and "dedupe.overrides.jsonl:2: expected" in shown[1]
    assert "unknown key &#39;decison&#39;" in shown[1]
    form = {"csrf": client.token, "a_question": "甲", "a_answer": "乙", "decision": "distinct"}
    refused = client.post("/review/decide", data=form | {"b_question": "丙", "b_answer": "丁"})
    assert refused.status_code == 400 and "dedupe.overrides.jsonl:2" in refused.json()["error"]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_rejects_are_paged_and_filtered(project):
    rows = [
        {
            "stage": "ingest",
            "reason": "mojibake" if i % 3 else "empty_answer",
            "source": f"raw/{'a' if i % 2 else 'b'}.json",
            "line": i,
            "raw": f"row {i}",
        }
        for i in range(1, 131)
    ]
    path = project / "processed" / "ingested.rejects.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    first = ledger.rejects_page(project / "processed", page=1, size=50)
    assert (first["total"], first["pages"], len(first["rows"])) == (130, 3, 50)
    last = ledger.rejects_page(project / "processed", page=3, size=50)
    assert [r["line"] for r in last["rows"]] == list(range(101, 131))
    picked = ledger.rejects_page(project / "processed", reason="empty_answer", source="raw/b.json")
    assert [r["line"] for r in picked["rows"]] == [i for i in range(6, 131, 6)]
    assert first["reasons"] == {"mojibake": 87, "empty_answer": 43}


def test_cli_warns_loudly_off_loopback(monkeypatch):
    import curate.ui
    from curate.cli import main

    served = []
    monkeypatch.setattr(curate.ui, "serve", lambda config, open_browser: served.append(config))
    result = CliRunner().invoke(main, ["ui", "--host", "0.0.0.0", "--no-open"])
    assert result.exit_code == 0 and "WARNING: binding 0.0.0.0" in result.output
    quiet = CliRunner().invoke(main, ["ui", "--no-open"])
    assert "WARNING" not in quiet.output and served[-1].host == "127.0.0.1"


def test_upload_of_a_very_long_name_keeps_its_extension_and_fits_the_file_system(client, project):
    """A name of 100 Chinese characters is 305 bytes, over the 255 a file system allows."""
    head = {"X-CSRF-Token": client.token}
    rows = json.dumps([{"question": "什么酒不能喝？", "answer": "碘酒"}]).encode()
    saved = []
    for name in ("长" * 100 + ".json", "长" * 200 + ".json", "长" * 200 + ".jsonl.gz"):
        body = rows if name.endswith(".json") else b""
        response = client.post("/data/upload", headers=head, files={"files": (name, body)})
        assert response.status_code == 200, response.text
        saved.append(response.json()["saved"][0])
    assert [s["path"].rsplit(".", 1)[-1] for s in saved] == ["json", "json", "gz"]
    assert saved[1]["path"] != saved[0]["path"]  # same cut name: never over the first
    assert [s["records"] for s in saved[:2]] == [1, 1]
    on_disk = sorted(p.name for p in (project / "raw").iterdir())
    assert len(on_disk) == 3 and all(len(n.encode()) <= 255 for n in on_disk)
    bad = client.post("/data/upload", headers=head, files={"files": ("长" * 200 + ".exe", b"")})
    assert bad.status_code == 400 and len(bad.json()["error"]) < 200


def test_an_upload_ingest_cannot_read_is_not_kept_and_the_others_are(client, project):
    """A binary file named .json would stop every later run of ingest on raw/."""
    head = {"X-CSRF-Token": client.token}
    good = json.dumps([{"question": "什么床不能睡？", "answer": "牙床"}]).encode()
    sent = [
        ("files", ("坏.json", bytes(range(128, 256)) * 8)),
        ("files", ("ok.json", good)),
        ("files", ("gbk.csv", "question,answer\n什么东西越洗越脏？,水\n".encode("gbk"))),
    ]
    response = client.post("/data/upload", headers=head, files=sent)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("坏.json was not saved: raw/坏.json: not valid UTF-8")
    assert str(project) not in error  # named as the page names it
    # what a browser user can do: no command-line flag
    assert "--encoding" not in error and "save it as UTF-8" in error
    assert error.endswith("and upload it again")
    saved = response.json()["saved"]
    assert [(s["path"], s["records"]) for s in saved] == [("raw/ok.json", 1), ("raw/gbk.csv", 1)]
    assert sorted(p.name for p in (project / "raw").iterdir()) == ["gbk.csv", "ok.json"]


def test_uploads_of_one_name_at_once_each_get_their_own_file(project, serve):
    import concurrent.futures
    import urllib.request

    url, app = serve(UiConfig(root=project))
    with urllib.request.urlopen(f"{url}/data") as r:
        cookie = r.headers["set-cookie"].split(";")[0]
        token = re.search(r'name="csrf" content="([^"]+)"', r.read().decode())[1]

    def send(i: int) -> int:
        rows = json.dumps([{"question": f"第{i}个谜语？", "answer": str(i)}], ensure_ascii=False)
        body = (
            f'--B\r\nContent-Disposition: form-data; name="files"; filename="same.json"\r\n'
            f"Content-Type: application/json\r\n\r\n{rows}\r\n--B--\r\n"
        ).encode()
        head = {"X-CSRF-Token": token, "Cookie": cookie}
        head["Content-Type"] = "multipart/form-data; boundary=B"
        req = urllib.request.Request(f"{url}/data/upload", data=body, headers=head)
        with urllib.request.urlopen(req) as r:
            return r.status

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(send, range(8))) == [200] * 8
    texts = sorted(p.read_text(encoding="utf-8") for p in (project / "raw").iterdir())
    assert len(texts) == 8 and len(set(texts)) == 8  # none replaced another


def test_the_data_page_reads_each_unchanged_file_once(client, project, monkeypatch):
    """Each visit listed every file by parsing it again: 7 s a visit with one 60 MB file."""
    from curate.stages.ingest import readers

    reads = []
    real = readers.read_file
    monkeypatch.setattr(readers, "read_file", lambda path, *a: reads.append(path) or real(path))
    path = project / "raw" / "谜.jsonl"
    path.parent.mkdir(exist_ok=True)
    row = json.dumps({"question": "什么床不能睡？", "answer": "牙床"}, ensure_ascii=False) + "\n"
    path.write_text(row, encoding="utf-8")
    for _ in range(3):
        assert re.search(r"<td class=\"num\">1</td>", client.get("/data").text)
    assert len(reads) == 1
    path.write_text(row * 5, encoding="utf-8")  # changed: read again, the new count shown
    assert re.search(r"<td class=\"num\">5</td>", client.get("/data").text)
    assert len(reads) == 2
