"""A sequential fetcher for the dry run (`aggregator sources test`): the crawl's rules without
the crawl's machinery.

Every hop of a redirect passes the URL guard for its source and kind; the connection goes only
to an address the guard accepts (the host is resolved here and every address checked before
a byte is sent); robots.txt is obeyed like the crawl does (`obey_robots`), and the source's
delay is kept between requests.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from protego import Protego

from aggregator import guard
from aggregator.errors import FeedError
from aggregator.settings import Settings
from aggregator.sources import Source
from aggregator.vocabulary import RequestKind

MAX_REDIRECTS = 5


@dataclass
class Fetched:
    url: str
    body: bytes
    content_type: str | None
    headers: dict[str, str]


def guarded_connect(source: Source):
    """A `socket.create_connection` stand-in that connects only to addresses the guard
    accepts for `source`: every address the host resolves to is checked first."""
    def connect(address, timeout=socket.getdefaulttimeout(), source_address=None):
        host, port = address
        try:
            addresses = guard.resolve(host, port)
        except OSError as exc:
            raise FeedError(f"cannot resolve {host}: {exc}") from exc
        for ip in addresses:
            if reason := guard.address_refusal(ip, source):
                raise FeedError(f"refused: {host} resolves to {reason}")
        return socket.create_connection((str(addresses[0]), port), timeout, source_address)
    return connect


class Fetcher:
    """One request at a time, the source's delay between them, the guard on every hop."""

    def __init__(self, source: Source, settings: Settings):
        self.source, self.user_agent = source, settings.user_agent
        self.timeout, self.max_bytes = settings.download_timeout, settings.max_body_size
        self.obey_robots = settings.obey_robots
        self.delay = (source.download_delay if source.download_delay is not None
                      else settings.download_delay)
        self._last = 0.0
        self._robots: dict[str, Protego | None] = {}

    def get(self, url: str, kind: RequestKind = RequestKind.PAGE) -> Fetched:
        """The body at `url` (redirects followed, each hop checked); FeedError if refused."""
        for _ in range(MAX_REDIRECTS + 1):
            if reason := guard.refusal(url, self.source, kind):
                raise FeedError(f"refused {url}: {reason}")
            if kind is not RequestKind.ROBOTS and not self._robots_allow(url):
                raise FeedError(f"refused {url}: forbidden by robots.txt")
            status, headers, body = self._exchange(url)
            location = headers.get("location")
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if status >= 400:
                raise FeedError(f"HTTP {status} from {url}")
            return Fetched(url, body, headers.get("content-type"), headers)
        raise FeedError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _robots_allow(self, url: str) -> bool:
        if not self.obey_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            try:
                robots = self.get(f"{origin}/robots.txt", RequestKind.ROBOTS)
                text = robots.body.decode("utf-8", errors="replace")
                self._robots[origin] = Protego.parse(text)
            except FeedError:
                self._robots[origin] = None  # no readable robots.txt: nothing is forbidden
        parser = self._robots[origin]
        return parser is None or parser.can_fetch(url, self.user_agent)

    def _exchange(self, url: str) -> tuple[int, dict[str, str], bytes]:
        """One request, after the source's delay; (status, lower-cased headers, body)."""
        time.sleep(max(0.0, self._last + self.delay - time.monotonic()))
        parts = urlsplit(url)
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        conn._create_connection = guarded_connect(self.source)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", path, headers={"User-Agent": self.user_agent,
                                               "Accept-Encoding": "identity"})
            answer = conn.getresponse()
            body = answer.read(self.max_bytes + 1)
            headers = {k.lower(): v for k, v in answer.getheaders()}
        except (OSError, http.client.HTTPException) as exc:
            raise FeedError(f"{url}: {exc}") from exc
        finally:
            conn.close()
            self._last = time.monotonic()
        if len(body) > self.max_bytes:
            raise FeedError(f"{url}: larger than {self.max_bytes} bytes")
        return answer.status, headers, body
