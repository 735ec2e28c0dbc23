"""Who may read the desk, and what a browser may do with its pages.

Loopback only unless a token is set; with a token every request must carry it (bearer or
basic-auth password, compared in constant time). Every answer carries a Content-Security-Policy
that allows no script at all, so stored text or HTML can never run in a reader's browser.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from aggregator.errors import ConfigError

CSP = ("default-src 'none'; script-src 'none'; img-src 'self'; style-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def check_listen(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without an access token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to listen on {host}: not a loopback address and no access token; "
            "set web.token (AGGREGATOR_WEB__TOKEN) or listen on 127.0.0.1")


def presented_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer T` or the password of `Basic user:T`."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def authorised(request: Request, token: str | None) -> bool:
    if not token:
        return True
    given = presented_token(request)
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class Guard:
    """Pure ASGI middleware (no per-request task like BaseHTTPMiddleware): the token check
    before the app, the security headers on every answer."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token
        self.headers = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        if not authorised(Request(scope), self.token):
            await unauthorised()(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def unauthorised() -> Response:
    return JSONResponse({"error": "unauthorised", "message": "an access token is required"},
                        status_code=401,
                        headers={"WWW-Authenticate": 'Basic realm="aggregator", charset="UTF-8"'})
