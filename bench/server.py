"""The corpus served over HTTP/1.1 (keep-alive) on 127.0.0.1, one thread per connection.

Pages are rendered per request from `bench.corpus` (about 1 ms each), so memory stays flat
whatever the corpus size; `python -m bench.server` reports how many pages a second it serves.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import corpus

_ROUTE = re.compile(r"^/s(\d+)/(news|feed)/(\d+)\.(html|xml)$")


class CorpusServer:
    """`with CorpusServer(sites, articles) as server:` serves at `server.base`."""

    def __init__(self, sites: int, articles: int, host: str = "127.0.0.1"):
        self.sites, self.articles = sites, articles
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, kind, body = owner.render(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def render(self, path: str) -> tuple[int, str, bytes]:
        found = _ROUTE.match(path)
        if found:
            site, kind, number = int(found[1]), found[2], int(found[3])
            if site < self.sites and kind == "news" and number < self.articles:
                return 200, "text/html; charset=utf-8", corpus.page(
                    self.base, site, number, self.sites)
            if site < self.sites and kind == "feed" and number < corpus.feed_pages(self.articles):
                return 200, "application/rss+xml; charset=utf-8", corpus.feed(
                    self.base, site, number, self.articles, self.sites)
        return 404, "text/plain", b"not found"

    def feed_urls(self) -> list[tuple[str, str]]:
        """(source name, feed URL): one source per feed page of every site."""
        return [(f"s{site}-p{p}", f"{self.base}/s{site}/feed/{p}.xml")
                for site in range(self.sites) for p in range(corpus.feed_pages(self.articles))]

    def __enter__(self) -> CorpusServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def throughput(server: CorpusServer, pages: int = 2000, clients: int = 16) -> float:
    """Pages a second the server delivers to `clients` keep-alive connections."""
    port = int(server.base.rsplit(":", 1)[1])

    def client(n: int) -> None:
        conn = HTTPConnection("127.0.0.1", port)
        for k in range(n, pages, clients):
            conn.request("GET", f"/s{k % server.sites}/news/{k // server.sites}.html")
            conn.getresponse().read()
        conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return pages / (time.perf_counter() - started)


if __name__ == "__main__":
    with CorpusServer(20, 250) as running:
        print(f"{throughput(running):.0f} pages/s")
