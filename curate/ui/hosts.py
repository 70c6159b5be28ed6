"""DNS-rebinding defence: bound to loopback, the app answers only requests addressed to it.

A page on another site can point its own host name at 127.0.0.1 and have the browser send
requests to this app; the browser then sends that site's name in the Host header. So when
the app listens on a loopback address, a request is served only when its Host is a loopback
name or address with the port the app listens on (`localhost:8765`, `127.0.0.1:8765`,
`[::1]:8765`); any other Host gets 400. Bound elsewhere (`--host 0.0.0.0`, already warned
about) the app cannot know its names, and Host is not checked.

>>> allowed("localhost:8765", 8765), allowed("evil.example:8765", 8765)
(True, False)
>>> allowed("[::1]:8765", 8765), allowed("127.0.0.1:9999", 8765), allowed("127.0.0.1", 80)
(True, False, True)
"""

from __future__ import annotations

from curate.ui.config import LOOPBACK

_NAMES = frozenset(h.lower() for h in LOOPBACK) | {"[::1]"}


def allowed(host: str, port: int) -> bool:
    """Whether a Host header names this app on a loopback name and its port (80 if none)."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8765
        name, _, rest = host.partition("]")
        name, given = name + "]", rest.removeprefix(":") if rest else "80"
    else:
        name, sep, given = host.partition(":")
        given = given if sep else "80"
    return name in _NAMES and given == str(port)


class LoopbackHostOnly:
    """ASGI middleware: 400 for a request whose Host is not this loopback address and port
    (the port is the listening socket's, from the ASGI scope: `--port 0` works too)."""

    def __init__(self, app, port: int) -> None:
        self.app, self.port = app, port

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or [])
            host = headers.get(b"host", b"").decode("latin-1")
            server = scope.get("server")
            port = server[1] if server and server[1] else self.port
            if not allowed(host, port):
                await _refuse(send, scope["type"])
                return
        await self.app(scope, receive, send)


async def _refuse(send, kind: str) -> None:
    if kind == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b"Invalid host header: this app answers only on its loopback address\n"
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
