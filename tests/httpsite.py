"""A real HTTP server on 127.0.0.1 serving test sites from a route table.

Routes map a path to a Page (status, headers, body). ETag and Last-Modified are honoured so
conditional GET can be tested; every request is logged for assertions.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # send ETag / Last-Modified and answer 304 when they match
    delay: float = 0.0

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    status: int


class Site:
    """Routes plus the server; `url(path)` gives an absolute loopback URL."""

    LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: dict[str, Page] = {}
        self.sequences: dict[str, list[Page]] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                site._serve(self)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str, **kwargs) -> str:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Page(body=body, **kwargs)
        return self.url(path)

    def add_sequence(self, path: str, pages: list[Page]) -> str:
        """Answer `path` with each page in turn; the last one repeats."""
        self.sequences[path] = list(pages)
        return self.url(path)

    def requests_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("#", 1)[0]
        with self._lock:
            sequence = self.sequences.get(path)
            if sequence:
                self.routes[path] = sequence.pop(0) if len(sequence) > 1 else sequence[0]
        page = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
        if page is None:
            page = Page(b"not found", status=404, content_type="text/plain", conditional=False)
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if page.delay:
                time.sleep(page.delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        status, body = page.status, page.body
        headers = {"Content-Type": page.content_type, **page.headers}
        if page.conditional and status == 200:
            headers["ETag"] = page.etag
            headers["Last-Modified"] = self.LAST_MODIFIED
            if handler.headers.get("If-None-Match") == page.etag:
                status, body = 304, b""
        with self._lock:
            self.hits.append(Hit(path, dict(handler.headers.items()), status))
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
