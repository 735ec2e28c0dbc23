"""The corpus served over HTTP/1.1 (keep-alive) on 127.0.0.1, one thread per connection.

Every page and feed is rendered from `bench.corpus` before the server starts (in a process
pool; about 100 KB of memory a page) and served from memory: rendering costs about 2.4 ms of CPU
a page, and rendered per request it took a tenth of the two cores from the daemon being measured,
whose real sites run on other machines. `python -m bench.server` reports how many pages a second
it serves.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import corpus


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
        self._pages: dict[str, tuple[str, bytes]] = {}

    def _render_all(self) -> None:
        """Every page and feed page of the corpus, by path."""
        news = [(site, n) for site in range(self.sites) for n in range(self.articles)]
        with multiprocessing.get_context("spawn").Pool() as pool:
            bodies = pool.starmap(corpus.page, [(self.base, s, n, self.sites) for s, n in news],
                                  chunksize=64)
        for (site, number), body in zip(news, bodies):
            self._pages[f"/s{site}/news/{number}.html"] = ("text/html; charset=utf-8", body)
        for site in range(self.sites):
            for number in range(corpus.feed_pages(self.articles)):
                self._pages[f"/s{site}/feed/{number}.xml"] = (
                    "application/rss+xml; charset=utf-8",
                    corpus.feed(self.base, site, number, self.articles, self.sites))

    def render(self, path: str) -> tuple[int, str, bytes]:
        found = self._pages.get(path)
        if found:
            return 200, *found
        return 404, "text/plain", b"not found"

    def feed_urls(self) -> list[tuple[str, str]]:
        """(source name, feed URL): one source per feed page of every site."""
        return [(f"s{site}-p{p}", f"{self.base}/s{site}/feed/{p}.xml")
                for site in range(self.sites) for p in range(corpus.feed_pages(self.articles))]

    def __enter__(self) -> CorpusServer:
        self._render_all()
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
