"""The corpus served over HTTP/1.1 (keep-alive) on 127.0.0.1, one thread per connection.

Every page and feed is rendered from `bench.corpus` before the server starts (in a process
pool; about 100 KB of memory a page) and served from memory: rendering costs about 2.4 ms of CPU
a page, and rendered per request it took a tenth of the two cores from the daemon being measured,
whose real sites run on other machines. For the same reason a request costs only a read, a
look-up and one send of the prepared status line, headers and body: `http.server` parsed every
request's headers with the email package and wrote its response line by line (the bench
process's CPU in an ingest went from 1.64 to 1.45 ms an article with this server; most of the
rest was the memory sampler, bench/run.py). `python -m bench.server` reports how many pages a
second it serves.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection

from bench import corpus

_NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
              b"Content-Length: 9\r\n\r\n", b"not found")
_MAX_HEAD = 64 * 1024  # a request head longer than this is not one of the crawler's


def _head(kind: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            "\r\n").encode("ascii")


class CorpusServer:
    """`with CorpusServer(sites, articles) as server:` serves at `server.base`."""

    def __init__(self, sites: int, articles: int, host: str = "127.0.0.1"):
        self.sites, self.articles = sites, articles
        self._listener = socket.create_server((host, 0), backlog=128)
        self.base = f"http://{host}:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, name="corpus-accept", daemon=True)
        self._pages: dict[bytes, tuple[bytes, bytes]] = {}  # path -> (head, body)

    def _render_all(self) -> None:
        """Every page and feed page of the corpus, by path."""
        news = [(site, n) for site in range(self.sites) for n in range(self.articles)]
        with multiprocessing.get_context("spawn").Pool() as pool:
            bodies = pool.starmap(corpus.page, [(self.base, s, n, self.sites) for s, n in news],
                                  chunksize=64)
        html = "text/html; charset=utf-8"
        for (site, number), body in zip(news, bodies):
            self._pages[f"/s{site}/news/{number}.html".encode()] = (_head(html, body), body)
        rss = "application/rss+xml; charset=utf-8"
        for site in range(self.sites):
            for number in range(corpus.feed_pages(self.articles)):
                body = corpus.feed(self.base, site, number, self.articles, self.sites)
                self._pages[f"/s{site}/feed/{number}.xml".encode()] = (_head(rss, body), body)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed: the server is done
                return
            threading.Thread(target=self._serve, args=(conn,), name="corpus-conn",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        """GETs on one keep-alive connection until the client closes it."""
        buffer = b""
        with conn:
            try:
                while True:
                    end = buffer.find(b"\r\n\r\n")
                    while end < 0:
                        chunk = conn.recv(65536)
                        if not chunk or len(buffer) > _MAX_HEAD:
                            return
                        buffer += chunk
                        end = buffer.find(b"\r\n\r\n")
                    request, buffer = buffer[:end], buffer[end + 4:]
                    words = request.split(b"\r\n", 1)[0].split(b" ")
                    head, body = self._pages.get(words[1] if len(words) > 1 else b"",
                                                 _NOT_FOUND)
                    sent = conn.sendmsg((head, body))
                    if sent < len(head) + len(body):  # the kernel took part: the rest
                        conn.sendall((head + body)[sent:])
            except OSError:  # the client went away mid-request
                return

    def feed_urls(self) -> list[tuple[str, str]]:
        """(source name, feed URL): one source per feed page of every site."""
        return [(f"s{site}-p{p}", f"{self.base}/s{site}/feed/{p}.xml")
                for site in range(self.sites) for p in range(corpus.feed_pages(self.articles))]

    def __enter__(self) -> CorpusServer:
        self._render_all()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (Linux)
        except OSError:
            pass
        self._listener.close()
        self._thread.join(5)


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
