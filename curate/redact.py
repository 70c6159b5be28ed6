"""The one boundary for secrets: every string that leaves the process passes `redact`.

A secret (an API key, a password inside a URL) is registered when it is read; from then on
`redact` masks it in any text, in the forms a server or a serializer may give it back:
as is, URL-encoded, JSON-escaped, and cut short (any prefix of 8 characters or more, since
an error message may truncate it; any other run of 8 or more, since a table may wrap it).
Credentials inside URLs (`https://user:pass@host`) are masked whether registered or not.

The edges that apply it: the command line wraps stdout and stderr (`redacted_streams`) and
its traceback hook; the file writers in `curate.files` redact every text file they write.
Library code may redact earlier (before it truncates a server's text), never later.
"""

from __future__ import annotations

import base64
import contextlib
import re
import sys
import traceback
from collections.abc import Iterator
from urllib.parse import urlsplit

MASK = "***"
# Text cut after 8 characters of a key still tells an attacker the key's prefix and a reader
# nothing useful; shorter runs (like "sk-") are too common to mask.
MIN_PREFIX = 8
# Shorter strings are not plausible secrets, and masking them would garble ordinary text.
MIN_SECRET = 6
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s\"'<>]+@")
_patterns: dict[str, re.Pattern[str]] = {}


def register(secret: str | None) -> None:
    """Mask `secret` (and its encoded forms) in everything `redact` sees from now on."""
    if secret and len(secret) >= MIN_SECRET and secret not in _patterns:
        _patterns[secret] = _pattern(secret)


def _pattern(secret: str) -> re.Pattern[str]:
    """Any run of MIN_PREFIX+ characters of the secret; from its start, each character also
    as %XX, \\uXXXX or \\/ (encoded forms start where the secret starts).

    A run is head(?:c9(?:c10(...)?)?)? so that a match goes as far as the text follows the key.
    Runs that start inside the key catch its pieces when a table or a terminal wraps it.
    """
    encoded = [_char(c) for c in secret]
    plain = [re.escape(c) for c in secret]
    runs = [_run(encoded)]
    runs += [_run(plain[i:]) for i in range(1, len(secret) - MIN_PREFIX + 1)]
    return re.compile("|".join(runs))


def _run(chars: list[str]) -> str:
    tail = ""
    for part in reversed(chars[MIN_PREFIX:]):
        tail = f"(?:{part}{tail})?"
    return "".join(chars[:MIN_PREFIX]) + tail


def _char(c: str) -> str:
    code = ord(c)
    forms = {re.escape(c), f"\\\\u{code:04x}", f"\\\\u{code:04X}"}
    if code < 128:
        forms |= {f"%{code:02X}", f"%{code:02x}"}
    if c == "/":
        forms.add(r"\\/")
    if c == " ":
        forms.add(r"\+")
    return "(?:" + "|".join(sorted(forms)) + ")"


def register_url(url: str | None) -> None:
    """Register the password of a URL's `user:pass@` part, and the Basic auth header it makes."""
    if not url:
        return
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        if parts.password:
            register(parts.password)
            pair = f"{parts.username}:{parts.password}"
            register(pair)
            register(base64.b64encode(pair.encode()).decode())


def forget() -> None:
    """Drop every registered secret (tests, and a long-lived app whose key was replaced)."""
    _patterns.clear()


def redact(text: str) -> str:
    """`text` with every registered secret, and any credentials in a URL, masked."""
    if not text:
        return text
    if "@" in text:
        text = _URL_CREDENTIALS.sub(MASK + "@", text)
    for pattern in _patterns.values():
        text = pattern.sub(MASK, text)
    return text


class RedactingStream:
    """A text stream that redacts what is written to it and forwards the rest."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):  # encoding, flush, isatty, fileno, buffer, ...
        return getattr(self._stream, name)


@contextlib.contextmanager
def redacted_streams() -> Iterator[None]:
    """Redact sys.stdout and sys.stderr (and tracebacks) while the block runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(saved[0]), RedactingStream(saved[1])
    sys.excepthook = _excepthook
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _excepthook(kind, value, tb) -> None:
    """Print an uncaught exception's traceback, redacted (its text may quote a server)."""
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))
