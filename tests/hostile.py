"""Hostile servers and feeds for the fault suite, all on 127.0.0.0/8.

`Trickle` is a raw socket server that sends headers and then one byte at a time, forever
(http.server cannot). `publish_hostile` puts every other hostile answer on a `Site`.
"""

from __future__ import annotations

import gzip
import socket
import threading

from tests import stories
from tests.httpsite import Page
from tests.newssite import Story, article_page, rss

TITLE = "Київ: новини дня про електробуси"
PASSWD_MARK = "root:x:0:"  # what file:///etc/passwd would leak


class _Listener:
    """A raw socket server on 127.0.0.1 that hands each connection to `_handle` in a thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self.sock.close()


class Trickle(_Listener):
    """Accepts connections and trickles a never-ending body, one byte every `every` seconds."""

    def __init__(self, every: float = 0.2):
        super().__init__()
        self.every = every
        self.url = f"http://127.0.0.1:{self.port}/feed.xml"

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                             b"Connection: close\r\n\r\n<?xml version=\"1.0\"?><rss>")
                while not self._stop.wait(self.every):
                    conn.sendall(b" ")
            except OSError:
                pass  # the client gave up: that is the point


def _feed(items: str, decl: str = ' encoding="utf-8"') -> str:
    return (f'<?xml version="1.0"{decl}?><rss version="2.0"><channel><title>{TITLE}</title>'
            f"{items}</channel></rss>")


def _item(link: str, guid: str, date: str | None = "Mon, 02 Mar 2026 10:00:00 +0000",
          title: str = TITLE) -> str:
    date_tag = f"<pubDate>{date}</pubDate>" if date else ""
    link_tag = f"<link>{link}</link>" if link else ""
    return (f'<item><title>{title}</title>{link_tag}<guid isPermaLink="false">{guid}</guid>'
            f"{date_tag}</item>")


ENTITY_BOMB = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
               + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
                         for p, n in zip("abcdefgh", "bcdefghi"))
               + ']><rss version="2.0"><channel><title>&i;</title>{items}</channel></rss>')
XXE = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<rss version="2.0"><channel><title>&x;</title>{items}</channel></rss>')


def story(slug: str) -> Story:
    base = stories.BRIDGE
    return Story(slug=slug, title=f"{base.title} ({slug})", published=base.published,
                 paragraphs=[f"{p} Випуск {slug}." for p in base.paragraphs])


def publish_hostile(site, max_body: int) -> dict[str, tuple[str, dict]]:
    """name -> (feed URL, extra source options) for every hostile feed on `site`."""
    u = site.url
    good = [(story(s), site.add(f"/good/{s}.html", article_page(story(s), u(f"/good/{s}.html"))))
            for s in ("g1", "g2")]
    site.add("/good/rss.xml", rss(good))
    page = site.add("/p/article.html", article_page(story("p1"), u("/p/article.html")))
    one = _item(page, "one")
    rss_xml = "application/rss+xml"
    feeds = {
        "malformed": Page(b"<rss><channel><item><title>cut off</ti", content_type=rss_xml),
        "html": Page(b"<html><body><h1>Not a feed</h1></body></html>"),
        "empty": Page(b"", content_type=rss_xml),
        "cp1251": Page(_feed(one, ' encoding="windows-1251"').encode("cp1251"),
                       content_type=rss_xml),
        "koi8": Page(_feed(one, "").encode("koi8_u"), content_type=rss_xml),
        "bom": Page(b"\xef\xbb\xbf" + _feed(one).encode(), content_type=rss_xml),
        "mislabelled": Page(_feed(one, "").encode(), content_type="text/xml; charset=windows-1251"),
        "laughs": Page(ENTITY_BOMB.format(items=_item(page, "laugh", title="&i;")).encode(),
                       content_type=rss_xml),
        "xxe": Page(XXE.format(items=_item(page, "xxe", title="&x;")).encode(),
                    content_type=rss_xml),
        "gzipbomb": Page(gzip.compress(b"\0" * (max_body * 20)), content_type=rss_xml,
                         headers={"Content-Encoding": "gzip"}),
        "toobig": Page(b"<rss>" + b" " * (max_body * 3) + b"</rss>", content_type=rss_xml),
        "limited": Page(b"slow down", status=429, content_type="text/plain",
                        headers={"Retry-After": "120"}, conditional=False),
        "unavailable": Page(b"maintenance", status=503, content_type="text/plain",
                            headers={"Retry-After": "60"}, conditional=False),
        "broken": Page(b"oops", status=500, content_type="text/plain", conditional=False),
        "loop": Page(b"", status=302, headers={"Location": u("/feeds/loop")}, conditional=False),
        "to-file": Page(b"", status=302, headers={"Location": "file:///etc/passwd"},
                        conditional=False),
        "to-ftp": Page(b"", status=302, headers={"Location": "ftp://127.0.0.1/feed"},
                       conditional=False),
        "huge": Page(_feed("".join(_item(page, f"h{i}", None) for i in range(20_000))).encode(),
                     content_type=rss_xml),
        "dupes": Page(_feed(_item(page, "same") * 5 + _item(u("/p/none.html"), "same")).encode(),
                      content_type=rss_xml),
        "nolinks": Page(_feed(_item("", "nolink") + _item(page, "nodate", None)).encode(),
                        content_type=rss_xml),
        "future": Page(_feed(_item(page, "future", "Tue, 01 Jan 2999 00:00:00 +0000")).encode(),
                       content_type=rss_xml),
        "page-redirect": Page(_feed(_item(u("/p/away.html"), "away")).encode(),
                              content_type=rss_xml),
    }
    site.add("/p/away.html", b"", status=302, conditional=False,
             headers={"Location": u("/p/article.html").replace("127.0.0.1", "localhost")})
    for name, answer in feeds.items():
        site.routes[f"/feeds/{name}"] = answer
    out = {name: (u(f"/feeds/{name}"), {}) for name in feeds}
    out["good"] = (u("/good/rss.xml"), {})
    # A host name resolving to loopback, on a source that does not allow private addresses:
    # the request goes to 127.0.0.1 and the answer is refused by its address.
    out["private-name"] = (u("/good/rss.xml").replace("127.0.0.1", socket.gethostname()),
                           {"allow_private_addresses": False,
                            "allowed_domains": [socket.gethostname()]})
    out["private-literal"] = (u("/feeds/never"), {"allow_private_addresses": False})
    return out


SECRET_PAGE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
               b"<html><body style='margin:0;background:#ff0000'>"
               b"<h1 style='font-size:200px;color:#ff0000'>INTERNAL-SECRET</h1>"
               b"<div style='height:3000px;background:#ff0000'></div></body></html>")


class Internal(_Listener):
    """A server inside the network (on 127.0.0.1) that nothing may reach: it counts every
    connection accepted, whatever comes over it, and answers with an all-red page."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0
        self._lock = threading.Lock()

    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        with conn:
            try:
                conn.settimeout(2)
                conn.recv(65536)
                conn.sendall(SECRET_PAGE)
            except OSError:
                pass


def loopback_name() -> str | None:
    """This machine's host name when it resolves to loopback (Debian's /etc/hosts), else None."""
    name = socket.gethostname()
    try:
        return name if socket.gethostbyname(name).startswith("127.") else None
    except OSError:
        return None


def loopback_spellings(port: int) -> list[str]:
    """Internal URLs in every spelling an attacker would try."""
    hosts = ["127.1", "0x7f.1", "2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]", "localhost.",
             "127.0.0.1"]
    if name := loopback_name():
        hosts.append(name)
    return [f"http://{host}:{port}/secret" for host in hosts]
