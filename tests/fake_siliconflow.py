"""A fake SiliconFlow (and any OpenAI-compatible) API on 127.0.0.1, for tests.

A real HTTP server on an ephemeral port that speaks the documented protocol:
- `POST /v1/files` (multipart `file` + `purpose`) -> envelope {code, message, status, data};
- `GET /v1/files?purpose=...`, `GET /v1/models`;
- `POST /v1/chat/completions` -> OpenAI shape; an unknown or unfinished model -> HTTP 400
  `{"code": 20012, ...}`;
- a wrong key -> HTTP 401 with the plain-text body `Invalid token`; an unknown path -> 404 text.

Usage:
    with FakeSiliconFlow(reply=lambda model, messages: "答案") as api:
        client = Client(api.url, api.key)
        api.fail("POST /v1/chat/completions", 503, times=2)   # then success
        api.pending["ft:LoRA/..."] = 3                        # three 20012 answers, then ready
        api.requests[-1].json                                  # what was sent
        api.hostile = True                        # echo the key in every answer's headers and body
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KEY = "sk-fake-0123456789abcdef"
NOT_FOUND_MODEL = {
    "code": 20012,
    "message": "Model does not exist. Please check it carefully.",
    "data": None,
}


@dataclass
class Recorded:
    """One request the server saw."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    json: object = None
    fields: dict = field(default_factory=dict)  # multipart: name -> str (text) or bytes (file)
    filenames: dict = field(default_factory=dict)  # multipart: name -> filename


def default_reply(model: str, messages: list[dict]) -> str:
    return f"echo: {messages[-1]['content']}" if messages else "echo"


class FakeSiliconFlow:
    """The server; configure canned answers and failures through its attributes."""

    def __init__(
        self, key: str | None = KEY, reply: Callable[[str, list[dict]], str] = default_reply
    ) -> None:
        self.key = key  # None: no auth (like a local vLLM)
        self.reply = reply
        self.requests: list[Recorded] = []
        self.pending: dict[str, int] = {}  # model -> 20012 answers left (-1: never ready)
        self.failures: dict[str, list[tuple[int, object, dict]]] = {}
        self.model_list = ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct"]
        self.uploads: list[dict] = []
        self.hostile = False  # echo the request's headers (the key) in every answer
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeSiliconFlow:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSiliconFlow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(
        self,
        route: str,
        status: int,
        body: object = None,
        *,
        times: int = 1,
        headers: dict | None = None,
    ) -> None:
        """Answer the next `times` requests to `route` ("POST /v1/files") with `status`.

        `body` may be a str (sent as text/plain), a dict (JSON), or the string "DROP" to
        close the connection without an answer (a connection error for the client).
        """
        self.failures.setdefault(route, []).extend([(status, body, headers or {})] * times)

    def calls(self, route: str) -> list[Recorded]:
        method, _, path = route.partition(" ")
        return [r for r in self.requests if r.method == method and r.path == path]

    # -- request handling (runs in server threads) ---------------------------------------

    def handle(self, rec: Recorded) -> tuple[int, object, dict]:
        with self._lock:
            self.requests.append(rec)
            queued = self.failures.get(f"{rec.method} {rec.path}")
            if queued:
                return queued.pop(0)
        if self.key is not None and rec.headers.get("authorization") != f"Bearer {self.key}":
            return 401, "Invalid token", {}
        route = f"{rec.method} {rec.path}"
        if route == "POST /v1/files":
            return self._upload(rec)
        if route == "GET /v1/files":
            return self._list_files(rec)
        if route == "GET /v1/models":
            return (
                200,
                {"object": "list", "data": [{"id": m, "object": "model"} for m in self.model_list]},
                {},
            )
        if route == "POST /v1/chat/completions":
            return self._chat(rec)
        return 404, "404 page not found", {}

    def _upload(self, rec: Recorded) -> tuple[int, object, dict]:
        if "file" not in rec.fields or "purpose" not in rec.fields:
            return (
                400,
                {"code": 20015, "message": "file and purpose are required", "data": None},
                {},
            )
        with self._lock:
            n = len(self.uploads) + 1
            data = {
                "id": f"file-fake{n:04d}",
                "object": "file",
                "bytes": len(rec.fields["file"]),
                "createdAt": 1741685396,
                "filename": rec.filenames.get("file", ""),
                "purpose": rec.fields["purpose"],
            }
            self.uploads.append({**data, "content": rec.fields["file"]})
        return 200, {"code": 20000, "message": "Ok", "status": True, "data": data}, {}

    def _list_files(self, rec: Recorded) -> tuple[int, object, dict]:
        if "purpose" not in rec.query:
            return 400, {"code": 20015, "message": "purpose is required", "data": None}, {}
        items = [{k: v for k, v in u.items() if k != "content"} for u in self.uploads]
        return (
            200,
            {
                "code": 20000,
                "message": "Ok",
                "status": True,
                "data": {"object": "file", "data": items},
            },
            {},
        )

    def _chat(self, rec: Recorded) -> tuple[int, object, dict]:
        body = rec.json if isinstance(rec.json, dict) else {}
        model, messages = body.get("model", ""), body.get("messages", [])
        with self._lock:
            left = self.pending.get(model, 0)
            if left:
                self.pending[model] = left - 1 if left > 0 else left
                return 400, NOT_FOUND_MODEL, {}
        text = self.reply(model, messages)
        return (
            200,
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
            {},
        )


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict, dict]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields, names = {}, {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[name], names[name] = payload, filename
        else:
            fields[name] = payload.decode("utf-8")
    return fields, names


def _handler(api: FakeSiliconFlow) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            ctype = self.headers.get("content-type", "")
            rec = Recorded(
                self.command,
                url.path,
                parse_qs(url.query),
                {k.lower(): v for k, v in self.headers.items()},
                raw,
            )
            if ctype.startswith("application/json"):
                rec.json = json.loads(raw or b"null")
            elif ctype.startswith("multipart/form-data"):
                rec.fields, rec.filenames = _parse_multipart(ctype, raw)
            status, body, headers = api.handle(rec)
            if api.hostile:  # a server that leaks: headers back in the headers and the body
                auth = rec.headers.get("authorization", "")
                headers = {**headers, "X-Echo-Authorization": auth}
                if isinstance(body, dict):
                    body = {**body, "echo": {"headers": rec.headers, "auth": auth}}
                    if isinstance(body.get("data"), dict):
                        body["data"] = {**body["data"], "filename": auth}
            if body == "DROP":
                self.close_connection = True
                self.connection.close()
                return
            if isinstance(body, str) or body is None:
                data, kind = (body or "").encode(), "text/plain; charset=utf-8"
            else:
                data, kind = json.dumps(body, ensure_ascii=False).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            try:
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped waiting (its timeout): as a real server, move on

        do_GET = do_POST = do_DELETE = _serve

    return Handler
