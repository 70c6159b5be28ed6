"""OpenAI-compatible APIs (SiliconFlow, vLLM, ...) through the openai SDK.

The SDK builds the requests (auth, multipart, timeouts) and maps HTTP errors to exceptions;
this module adds what the SDK does not: SiliconFlow's `{code, message, status, data}`
envelope (read through the raw response), errors that say what to do, and retries whose
waits are announced when longer than `ANNOUNCE_WAIT` seconds and capped in total by
`max_wait`. The SDK's own retries are off (`max_retries=0`) because it sleeps silently and
without a total limit. Every server text is redacted before it is cut or shown.
"""

from __future__ import annotations

import email.utils
import os
import random
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curate.errors import BackendError, ConfigError
from curate.redact import redact, register, register_url

SILICONFLOW_URL = "https://api.siliconflow.cn/v1"
SILICONFLOW_KEY_ENV = "SILICONFLOW_API_KEY"
SILICONFLOW_KEY_PAGE = "https://cloud.siliconflow.cn/account/ak"

# 429: rate limit; 500: "unknown error"; 502/503/504: load (SiliconFlow's error-code FAQ).
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# SiliconFlow wraps files/batch responses in {code, message, status, data}; 20000 means ok.
ENVELOPE_OK = frozenset({0, 200, 20000})
ANNOUNCE_WAIT = 5.0  # seconds: a longer wait says what it waits for
SHOWN = 300  # characters of a server's text quoted in an error (after redaction)


def check_base_url(url: str) -> None:
    """ConfigError for a base URL no request can go to; before any work that needs it."""
    register_url(url)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"base URL {redact(url)!r} must start with http:// or https://")
    if problem := _url_problem(url):  # else a bug report from deep in the HTTP layer
        raise ConfigError(f"base URL {redact(url)!r} {problem}; e.g. https://api.siliconflow.cn/v1")


def _url_problem(url: str) -> str | None:
    """What makes an http(s) URL unusable (no host, a bad port, a space), or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if not parts.hostname:
        return "has no host"
    if any(c.isspace() for c in url):
        return "has a space in it"
    if port == 0:
        return "has port 0"
    return None


class RequestTimeout(BackendError):
    """A request that got no answer within the timeout, on every attempt: the server is up
    (it accepted the connection) but slow or stuck on this request, so it may be this one only."""


class ApiError(BackendError):
    """An HTTP error answer, with the status and the API's own code and message when given."""

    def __init__(self, text: str, status: int | None = None, code: Any = None, detail: str = ""):
        super().__init__(text)
        self.status = status
        self.code = code
        self.detail = detail


def api_key_from_env(name: str = SILICONFLOW_KEY_ENV, *, page: str = SILICONFLOW_KEY_PAGE) -> str:
    """The key in environment variable `name`, or a ConfigError saying how to set it."""
    key = optional_key(name)
    if not key:
        where = f"create one at {page}, then " if page else ""
        raise ConfigError(f"{name} is not set; {where}run `export {name}=<your key>`")
    return key


def optional_key(name: str) -> str | None:
    """The key in `$name` (registered for redaction), or None when it is not set."""
    key = os.environ.get(name, "").strip()
    register(key)
    return key or None


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


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
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        notify: Callable[[str], None] = _stderr,
        seed: int | None = None,
    ) -> None:
        register(api_key)
        register_url(base_url)
        check_base_url(base_url)
        if api_key and not (api_key.isascii() and api_key.isprintable() and " " not in api_key):
            # the HTTP layer would fail with the header (and so the key) in its message
            raise ConfigError(
                f"the API key in ${key_env} has spaces or non-ASCII characters; "
                "copy it again from the key page"
            )
        self.base_url = base_url.rstrip("/")
        self.shown_url = redact(self.base_url)
        self._key = api_key or None
        self.key_env = key_env
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.max_wait, self.waited = max_wait, 0.0
        self.sleep = sleep  # settable: tests record the delays instead of waiting
        self.notify = notify
        self._rng = random.Random(seed)
        # Without a key the SDK would refuse to start; the header is omitted per request.
        import openai  # here, not at the top: `import curate.cli` stays light

        self._auth = {} if self._key else {"Authorization": openai.omit}
        self._sdk = openai.OpenAI(
            base_url=self.base_url,
            api_key=self._key or "no-key",
            max_retries=0,
            # A connection that takes longer than the whole answer may is no better.
            timeout=openai.Timeout(timeout, connect=min(connect_timeout, timeout)),
        )
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Client({self.shown_url!r}, key={'set' if self._key else 'none'})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sdk.close()

    # -- the calls ------------------------------------------------------------------------

    def chat(self, model: str, messages: list[dict], **params: Any) -> str:
        """One chat completion; the text of the first choice ("" when the model said nothing)."""
        create = self._sdk.chat.completions.with_raw_response.create
        body = self._call(
            "POST chat/completions",
            lambda: create(model=model, messages=messages, extra_headers=self._auth, **params),
        )
        try:
            content = body["choices"][0]["message"].get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(
                f"unexpected chat answer from {self.shown_url}: {_cut(str(body))}"
            ) from None
        return content or ""

    def upload_file(self, path: str | Path, purpose: str) -> dict:
        """Upload a file (multipart `file` + `purpose`); the file object, with its `id`."""
        path = Path(path)
        # Read once so that every retry sends the same bytes; upload files are a few MB.
        file = (path.name, path.read_bytes(), "application/jsonl")
        create = self._sdk.files.with_raw_response.create
        data = self._call(
            "POST files",
            lambda: create(file=file, purpose=purpose, extra_headers=self._auth),  # type: ignore[arg-type]
        )
        if not isinstance(data, dict) or not data.get("id"):
            raise BackendError(
                f"upload of {path.name} answered without a file id: {_cut(str(data))}"
            )
        return data

    def models(self) -> list[str]:
        """The ids of the models the endpoint lists."""
        listing = self._sdk.models.with_raw_response.list
        body = self._call("GET models", lambda: listing(extra_headers=self._auth))
        items = body.get("data", []) if isinstance(body, dict) else body
        return [m["id"] for m in items if isinstance(m, dict) and "id" in m]

    # -- plumbing -------------------------------------------------------------------------

    def _call(self, what: str, send: Callable[[], Any]) -> Any:
        """Send with retries; return the decoded JSON body, unwrapped from an envelope."""
        import openai

        what = f"{what.split()[0]} {self.shown_url}/{what.split()[1]}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                return self._decode(send().http_response, what)
            except openai.APIStatusError as exc:
                if exc.status_code not in RETRY_STATUS or last:
                    raise self._error(exc, what, attempt + 1) from None
                reason = f"HTTP {exc.status_code}"
                delay = self._delay(attempt, exc.response.headers.get("retry-after"))
            except openai.APIConnectionError as exc:  # timeouts too
                cause = exc.__cause__
                if type(cause).__name__ == "DecodingError":  # httpx's, under the SDK
                    raise BackendError(
                        f"{what} answered with a body that does not match its Content-Encoding "
                        f"({_cut(str(cause))}); the server or a proxy is broken, not your data"
                    ) from None
                detail = f"{type(cause or exc).__name__}: {_cut(str(cause or exc))}"
                # No answer in time from a server that took the request: maybe this request
                # only. One that never connects is unreachable for every request.
                stuck = type(cause).__name__ in ("ReadTimeout", "WriteTimeout")
                if last and isinstance(exc, openai.APITimeoutError) and stuck:
                    raise RequestTimeout(
                        f"{what} gave no answer within {self.timeout:g}s on {attempt + 1} "
                        f"attempts ({detail}); the server is slow or stuck, or raise --timeout"
                    ) from None
                if last:
                    raise BackendError(
                        f"could not reach {what} after {attempt + 1} attempts ({detail}); "
                        "check the base URL and your network"
                    ) from None
                reason, delay = detail, self._delay(attempt, None)
            self._wait(delay, what, reason, attempt)
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Exponential backoff with jitter; a server's Retry-After wins if larger."""
        base = min(self.max_backoff, self.backoff * 2**attempt)
        delay = base * (0.5 + 0.5 * self._rng.random())  # jitter spreads out parallel clients
        return max(delay, _retry_after(retry_after))

    def _wait(self, delay: float, what: str, reason: str, attempt: int) -> None:
        """Sleep `delay` seconds, saying so when it is long; refuse to pass `max_wait` in all."""
        if self.waited + delay > self.max_wait:
            raise ApiError(
                f"{what}: {reason}; the next try would be in {delay:.0f}s, which passes "
                f"--max-wait {self.max_wait:g}s (waited {self.waited:.0f}s so far); "
                "try again later or raise --max-wait"
            )
        if delay > ANNOUNCE_WAIT:
            self.notify(
                f"{what}: {reason}; waiting {delay:.0f}s before try {attempt + 2} of "
                f"{self.retries + 1} (--max-wait {self.max_wait:g}s in all)"
            )
        self.waited += delay
        self.sleep(delay)

    def _decode(self, resp, what: str) -> Any:
        try:
            body = resp.json()
        except ValueError:
            raise BackendError(
                f"{what} answered HTTP {resp.status_code} with a non-JSON body: {_cut(resp.text)!r}"
            ) from None
        if isinstance(body, dict) and {"code", "status", "data"} <= body.keys():
            if body["code"] not in ENVELOPE_OK or body["status"] is False:
                message = _cut(str(body.get("message")))
                raise ApiError(
                    f"{what} failed: code {body['code']}: {message}",
                    resp.status_code,
                    body["code"],
                    message,
                )
            return body["data"]
        return body

    def _error(self, exc, what: str, attempts: int) -> ApiError:
        status = exc.status_code
        code, detail = _code_and_message(exc)
        if status in (401, 403):
            reason = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
            if self._key:
                text = f"the API key in ${self.key_env} was rejected by {self.shown_url} ({reason})"
            else:
                text = f"{self.shown_url} needs an API key ({reason}); set ${self.key_env}"
            if status == 403:
                text += "; some models also need a verified (real-name) account"
            return ApiError(text, status, code, detail)
        label = (
            f"code {code}: {detail}" if code is not None else detail or exc.response.reason_phrase
        )
        text = f"{what} failed with HTTP {status} ({label})"
        if status in RETRY_STATUS:
            text += f" after {attempts} attempts; the service is busy, try again later"
        return ApiError(text, status, code, detail)


def _cut(text: str) -> str:
    """A server's text as it may be shown: redacted first, then cut to SHOWN characters."""
    return redact(text.strip())[:SHOWN]


def _retry_after(value: str | None) -> float:
    """Seconds a Retry-After header asks for (a number or an HTTP date); 0 when absent."""
    if not value:
        return 0.0
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - time.time())


def _code_and_message(exc) -> tuple[Any, str]:
    """(code, message) of an openai.APIStatusError: {code, message} or OpenAI's {error: {...}}."""
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error") if isinstance(body.get("error"), dict) else body
        message = err.get("message") or err.get("detail") or ""
        return err.get("code"), _cut(str(message))
    try:
        text = exc.response.text  # SiliconFlow's 401/403/404 bodies are plain text
    except Exception:  # noqa: BLE001 (a body that cannot be read is no message)
        text = ""
    return None, _cut(text if body is None or isinstance(body, str) else str(body))
