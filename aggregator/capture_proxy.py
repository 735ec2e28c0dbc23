"""A filtering forward proxy for one capture: the screenshot browser's only way out.

Chromium sends every request of the capture's context through it (loopback included: no
implicit bypass), so every document, frame, subresource, redirect hop (the browser asks
again for each hop), fetch and WebSocket (tunnelled with CONNECT) is judged here by the URL
guard for the capture's source: the host is resolved here, every address it resolves to is
checked, and the connection is made to the address that was checked. Page script cannot
reach around it; what is refused gets a 403 and is listed in `refused`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from urllib.parse import urlsplit

from aggregator import guard
from aggregator.sources import Source
from aggregator.vocabulary import RequestKind

MAX_HEAD = 64 * 1024
_HOP_HEADERS = ("proxy-connection", "proxy-authorization", "connection", "keep-alive")


class Refused(Exception):
    """The guard refused a request the page made."""


class CaptureProxy:
    """`async with CaptureProxy(source, allowed) as proxy:` listens on 127.0.0.1 until exit."""

    def __init__(self, source: Source | None, allowed: tuple[str, ...] | None = None,
                 timeout: float = 30.0):
        self.source, self.allowed, self.timeout = source, allowed, timeout
        self.refused: list[str] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> CaptureProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            if len(head) > MAX_HEAD:
                return
            method, target, lines = _parse(head)
            tunnel = method == "CONNECT"
            url = f"https://{target}/" if tunnel else target
            try:
                address, port = await self._checked(url, 443 if tunnel else 80)
            except Refused as refusal:
                self.refused.append(f"{url}: {refusal}")
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                return
            up_reader, upstream = await asyncio.wait_for(
                asyncio.open_connection(address, port), self.timeout)
            if tunnel:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                upstream.write(_origin_form(method, url, lines))
            await _pipe(reader, upstream, up_reader, writer)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError):
            pass  # the browser sees a closed connection and records its own error
        finally:
            for stream in (upstream, writer):
                if stream is not None:
                    stream.close()

    async def _checked(self, url: str, default_port: int) -> tuple[str, int]:
        """The address to connect to for `url`, after the guard accepted the URL and every
        address its host resolves to."""
        if reason := guard.refusal(url, self.source, RequestKind.SUBRESOURCE, self.allowed):
            raise Refused(reason)
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or default_port
        literal = guard.host_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host.rstrip("."), port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise Refused(f"cannot resolve {host}: {exc}") from exc
            addresses = list(dict.fromkeys(guard.host_address(i[4][0]) for i in infos))
        for address in addresses:
            if reason := guard.address_refusal(address, self.source):
                raise Refused(f"{host} resolves to {reason}")
        return str(addresses[0]), port


def _parse(head: bytes) -> tuple[str, str, list[str]]:
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    return method.upper(), target, [line for line in lines if line]


def _origin_form(method: str, url: str, lines: list[str]) -> bytes:
    """The request as the origin server expects it: path only, no proxy headers, one request
    per connection (so no later request on it can go to another host)."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kept = [line for line in lines if line.split(":", 1)[0].strip().lower() not in _HOP_HEADERS]
    return "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""]
                       ).encode("latin-1")


async def _pipe(client_reader, upstream_writer, upstream_reader, client_writer) -> None:
    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        with contextlib.suppress(OSError):
            sink.write_eof()

    tasks = [asyncio.ensure_future(copy(client_reader, upstream_writer)),
             asyncio.ensure_future(copy(upstream_reader, client_writer))]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    # once the server has answered and closed, the browser's side may stay open
    await asyncio.wait(tasks, timeout=1.0)
    for task in tasks:
        task.cancel()
