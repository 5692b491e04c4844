"""What keeps the board private to the person who started it.

- Only 127.0.0.1 is bound (serve.py); every request carries the random token, in the URL on
  first load (as notebooks do), then in a cookie the page cannot read, or an X-EMSYNC-Token
  header for scripts.
- The Host header must name the server itself and an Origin, when sent, must be the page's
  own: a foreign site that rebinds its DNS name to 127.0.0.1 sends its own name in both.
- Files are served only from inside the opened project folder, after resolving symlinks.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_HEADER = "x-emsync-token"
LOCAL_NAMES = ("127.0.0.1", "localhost")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def cookie_name(port: int) -> str:
    """Cookies do not tell ports apart, so two boards on one machine each get their own name."""
    return f"emsync_board_{port}"


class Guard:
    """ASGI middleware: 403 unless Host, Origin and token are right. A right token in the
    query string of a GET sets the cookie, so later requests (fetch, EventSource, <video>)
    carry it without the token in every URL."""

    def __init__(self, app: ASGIApp, token: str, port: int) -> None:
        self.app, self.token, self.port = app, token, port
        self.hosts = {f"{name}:{port}" for name in LOCAL_NAMES}
        self.origins = {f"http://{host}" for host in self.hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self.refusal(headers, scope.get("query_string", b"").decode("latin-1"))
        if problem:
            await PlainTextResponse(f"Forbidden: {problem}", status_code=403)(scope, receive, send)
            return
        query_token = _query_token(scope)
        if query_token is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{cookie_name(self.port)}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def refusal(self, headers: dict[str, str], query: str) -> str | None:
        """Why a request is refused, or None."""
        if headers.get("host", "") not in self.hosts:
            return "the Host header does not name this board (DNS rebinding?)"
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return "the request comes from another site"
        if headers.get("sec-fetch-site") == "cross-site":
            return "the request comes from another site"
        offered = [headers.get(TOKEN_HEADER)]
        offered += parse_qs(query).get("token", [])
        cookies = SimpleCookie()
        with contextlib.suppress(Exception):  # a malformed cookie header is just no cookie
            cookies.load(headers.get("cookie", ""))
        morsel = cookies.get(cookie_name(self.port))
        offered.append(morsel.value if morsel else None)
        if not any(t and hmac.compare_digest(t.encode(), self.token.encode()) for t in offered):
            return "missing or wrong token; open the URL that `emsync board` printed"
        return None


def _query_token(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


class OutsideProject(Exception):
    """A path that resolves outside every allowed folder (or does not exist)."""


def confine(path: str | Path, roots: Iterable[Path], base: Path | None = None) -> Path:
    """`path` (relative to `base`, or absolute) resolved with its symlinks, if it is an
    existing file inside one of `roots` (also resolved); else `OutsideProject`."""
    candidate = Path(path)
    if not candidate.is_absolute():
        if base is None:
            raise OutsideProject(str(path))
        candidate = base / candidate
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        raise OutsideProject(str(path)) from None
    for root in roots:
        try:
            if real.is_relative_to(root.resolve()):
                return real
        except OSError:
            continue
    raise OutsideProject(str(path))
