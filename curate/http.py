"""A small client for OpenAI-compatible HTTP APIs (SiliconFlow, vLLM, ...).

Timeouts on every call; retries with exponential backoff and jitter on 429/5xx and connection
errors; errors that say what to do. The API key is sent as a Bearer header and never appears in
a message, a repr or a log line.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from curate.errors import BackendError, ConfigError

SILICONFLOW_URL = "https://api.siliconflow.cn/v1"
SILICONFLOW_KEY_ENV = "SILICONFLOW_API_KEY"
SILICONFLOW_KEY_PAGE = "https://cloud.siliconflow.cn/account/ak"

# 429: rate limit; 500: "unknown error"; 502/503/504: load (SiliconFlow's error-code FAQ).
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# SiliconFlow wraps files/batch responses in {code, message, status, data}; 20000 means ok.
ENVELOPE_OK = frozenset({0, 200, 20000})


class ApiError(BackendError):
    """An HTTP error answer, with the status and the API's own code and message when given."""

    def __init__(self, text: str, status: int | None = None, code: Any = None, detail: str = ""):
        super().__init__(text)
        self.status = status
        self.code = code
        self.detail = detail


def api_key_from_env(name: str = SILICONFLOW_KEY_ENV, *, page: str = SILICONFLOW_KEY_PAGE) -> str:
    """The key in environment variable `name`, or a ConfigError saying how to set it."""
    key = os.environ.get(name, "").strip()
    if not key:
        where = f"create one at {page}, then " if page else ""
        raise ConfigError(f"{name} is not set; {where}run `export {name}=<your key>`")
    return key


class Client:
    """OpenAI-compatible API client: `Client(base_url, key).chat(model, messages)`."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        key_env: str = SILICONFLOW_KEY_ENV,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base URL {base_url!r} must start with http:// or https://")
        if api_key and not (api_key.isascii() and api_key.isprintable() and " " not in api_key):
            # httpx would fail with the header (and so the key) in its message
            raise ConfigError(
                f"the API key in ${key_env} has spaces or non-ASCII characters; "
                "copy it again from the key page"
            )
        self.base_url = base_url.rstrip("/")
        self._key = api_key or None
        self.key_env = key_env
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep  # settable: tests record the delays instead of waiting
        self._rng = random.Random(seed)
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"Client({self.base_url!r}, key={'set' if self._key else 'none'})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the calls ------------------------------------------------------------------------

    def chat(self, model: str, messages: list[dict], **params: Any) -> str:
        """One chat completion; the text of the first choice ("" when the model said nothing)."""
        body = self.request(
            "POST", "chat/completions", json={"model": model, "messages": messages, **params}
        )
        try:
            content = body["choices"][0]["message"].get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(
                f"unexpected chat answer from {self.base_url}: {str(body)[:200]}"
            ) from None
        return content or ""

    def upload_file(self, path: str | Path, purpose: str) -> dict:
        """Upload a file (multipart `file` + `purpose`); the file object, with its `id`."""
        path = Path(path)
        # Read once so that every retry sends the same bytes; upload files are a few MB.
        payload = path.read_bytes()
        files = {"file": (path.name, payload, "application/jsonl")}
        data = self.request("POST", "files", files=files, data={"purpose": purpose})
        if not isinstance(data, dict) or not data.get("id"):
            raise BackendError(
                f"upload of {path.name} answered without a file id: {str(data)[:200]}"
            )
        return data

    def models(self) -> list[str]:
        """The ids of the models the endpoint lists."""
        body = self.request("GET", "models")
        items = body.get("data", []) if isinstance(body, dict) else body
        return [m["id"] for m in items if isinstance(m, dict) and "id" in m]

    # -- plumbing -------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send with retries; return the decoded JSON body, unwrapped from an envelope."""
        what = f"{method} {self.base_url}/{path}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                resp = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if last:
                    raise BackendError(
                        f"could not reach {what} after {attempt + 1} attempts "
                        f"({type(exc).__name__}: {self._redact(str(exc))}); "
                        "check the base URL and your network"
                    ) from None
                self.sleep(self._delay(attempt, None))
                continue
            if resp.status_code in RETRY_STATUS and not last:
                self.sleep(self._delay(attempt, resp.headers.get("retry-after")))
                continue
            return self._decode(resp, what, attempt + 1)
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Exponential backoff with jitter; a server's Retry-After (seconds) wins if larger."""
        base = min(self.max_backoff, self.backoff * 2**attempt)
        delay = base * (0.5 + 0.5 * self._rng.random())  # jitter spreads out parallel clients
        if retry_after and retry_after.strip().isdigit():  # seconds; an HTTP-date is ignored
            delay = max(delay, min(float(retry_after), self.max_backoff * 2))
        return delay

    def _decode(self, resp: httpx.Response, what: str, attempts: int) -> Any:
        if resp.status_code >= 400:
            raise self._error(resp, what, attempts)
        try:
            body = resp.json()
        except ValueError:
            raise BackendError(
                f"{what} answered HTTP {resp.status_code} with a non-JSON body: "
                f"{self._redact(resp.text[:200])!r}"
            ) from None
        if isinstance(body, dict) and {"code", "status", "data"} <= body.keys():
            if body["code"] not in ENVELOPE_OK or body["status"] is False:
                raise ApiError(
                    self._redact(f"{what} failed: code {body['code']}: {body.get('message')}"),
                    resp.status_code,
                    body["code"],
                    str(body.get("message") or ""),
                )
            return body["data"]
        return body

    def _error(self, resp: httpx.Response, what: str, attempts: int) -> ApiError:
        status = resp.status_code
        code, detail = _code_and_message(resp)
        detail = self._redact(detail)
        if status in (401, 403):
            reason = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
            if self._key:
                text = f"the API key in ${self.key_env} was rejected by {self.base_url} ({reason})"
            else:
                text = f"{self.base_url} needs an API key ({reason}); set ${self.key_env}"
            if status == 403:
                text += "; some models also need a verified (real-name) account"
            return ApiError(text, status, code, detail)
        label = f"code {code}: {detail}" if code is not None else detail or resp.reason_phrase
        text = f"{what} failed with HTTP {status} ({label})"
        if status in RETRY_STATUS:
            text += f" after {attempts} attempts; the service is busy, try again later"
        return ApiError(text, status, code, detail)

    def _redact(self, text: str) -> str:
        """Belt and braces: a server that echoes the key must not make us print it."""
        return text.replace(self._key, "***") if self._key else text


def _code_and_message(resp: httpx.Response) -> tuple[Any, str]:
    """(code, message) from a JSON error body ({code, message} or OpenAI's {error: {...}})."""
    try:
        body = resp.json()
    except ValueError:
        return None, resp.text.strip()[:300]  # SiliconFlow's 401/403/404 bodies are plain text
    if isinstance(body, dict):
        err = body.get("error") if isinstance(body.get("error"), dict) else body
        message = err.get("message") or err.get("detail") or ""
        return err.get("code"), str(message)[:300]
    return None, str(body)[:300]
