"""The benchmark corpus: S sites x N articles of news pages, generated on demand.

Every page is a pure function of (site, article), so the server, the floor and the peer all see
the same bytes. The markup follows rbc.ua and pravda.com.ua as saved in ../shared/corpus/pages
(a mega-menu, a news line, inline scripts and JSON, share bars, ad slots, "read also" blocks, a
long footer), about 100 KB a page, with 300 to 1,000 words of body text drawn per article.
Every 25th article of a site is a rewrite of an article of site 0, so story placement does real
work.

A site publishes its articles through feeds of FEED_ENTRIES items (`/s{site}/feed/{page}.xml`);
each feed page is one source, so one ingest of all sources fetches every article.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import lru_cache

FEED_ENTRIES = 50
REWRITE_EVERY = 25
_LETTERS = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_EPOCH = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@lru_cache(maxsize=1)
def vocabulary() -> tuple[str, ...]:
    rng = random.Random(7)
    return tuple("".join(rng.choice(_LETTERS) for _ in range(rng.randint(2, 11)))
                 for _ in range(30000))


def _sentence(rng: random.Random) -> str:
    words = rng.choices(vocabulary(), k=rng.randint(8, 22))
    return " ".join(words).capitalize() + rng.choice((".", ".", ".", "?", "!"))


@dataclass(frozen=True)
class Article:
    site: int
    number: int
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    author: str

    @property
    def path(self) -> str:
        return f"/s{self.site}/news/{self.number}.html"


@lru_cache(maxsize=4096)
def article(site: int, number: int, sites: int) -> Article:
    """The article `number` of `site`; a rewrite shares most of its text with its original."""
    rng = random.Random(site * 1_000_003 + number)
    paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))
                  for _ in range(rng.randint(5, 16))]
    if number % REWRITE_EVERY == 1 and site > 0:
        original = article(0, number, sites)
        paragraphs = list(original.paragraphs) + paragraphs[:1]
    return Article(site, number, _sentence(rng).rstrip(".?!"), tuple(paragraphs),
                   _EPOCH - timedelta(minutes=7 * number + site),
                   " ".join(rng.choices(vocabulary(), k=2)).title())


@lru_cache(maxsize=64)
def _chrome(site: int) -> tuple[str, str, str]:
    """Per-site head scripts, mega-menu and footer: the 80 KB around every article."""
    rng = random.Random(-site - 1)
    words = vocabulary()
    link = lambda prefix: (f'<li class="menu__item"><a class="menu__link" '  # noqa: E731
                           f'href="/s{site}/{prefix}/{rng.randint(1, 99999)}">'
                           f'{" ".join(rng.choices(words, k=rng.randint(1, 3)))}</a></li>')
    sections = "".join(
        f'<div class="menu__col"><h4>{rng.choice(words).title()}</h4><ul>'
        + "".join(link("rubric") for _ in range(18)) + "</ul></div>" for _ in range(10))
    config = ",".join(f'"{rng.choice(words)}_{n}":{{"slot":"div-gpt-{n}","sizes":[[300,250],'
                      f'[728,90]],"targeting":"{rng.choice(words)}"}}' for n in range(60))
    icons = "".join(f'<symbol id="i{n}" viewBox="0 0 24 24"><path d="M{rng.randint(1, 20)} '
                    f'{rng.randint(1, 20)}l{rng.randint(1, 9)} {rng.randint(1, 9)}h-4v8h-2v-8'
                    f'H7l5-5z"/></symbol>' for n in range(40))
    head = (f'<script>window.dataLayer=window.dataLayer||[];var adsConfig={{{config}}};</script>'
            f'<style>{"".join(f".c{n}{{margin:{n % 9}px;color:#{n:06x}}}" for n in range(1200))}'
            f'</style>')
    menu = (f'<svg style="display:none">{icons}</svg><header class="header"><div class="logo">'
            f'<a href="/s{site}/">Новини {site}</a></div>'
            f'<nav class="menu">{sections}</nav></header>')
    footer = ('<footer class="footer"><div class="footer__links"><ul>'
              + "".join(link("page") for _ in range(90))
              + f'</ul></div><p>© 2026 Новини {site}. Усі права захищені. Використання '
              'матеріалів дозволяється за умови посилання на сайт.</p></footer>'
              '<script>(function(){var s=document.createElement("script");s.async=true;'
              's.src="https://www.googletagmanager.com/gtm.js?id=GTM-XXXX";'
              'document.head.appendChild(s)})();</script>')
    return head, menu, footer


def _news_line(site: int, number: int, sites: int, count: int) -> str:
    items = []
    for other in range(number + 1, number + 1 + count):
        a = article(site, other, sites)
        items.append(f'<li class="newsline__item"><span class="time">{a.published:%H:%M}</span>'
                     f'<a href="{a.path}">{html.escape(a.title)}</a></li>')
    return '<div class="newsline"><h3>Стрічка новин</h3><ul>' + "".join(items) + "</ul></div>"


def page(base: str, site: int, number: int, sites: int) -> bytes:
    """The article page as the site serves it."""
    a = article(site, number, sites)
    head, menu, footer = _chrome(site)
    esc = html.escape
    url = base + a.path
    body = [f"<p>{esc(p)}</p>" for p in a.paragraphs]
    body.insert(len(body) // 2, '<div class="read-in-google"><a href="/g">Читайте нас в Google '
                                'News</a></div><ins class="adsbygoogle" data-ad-slot="1"></ins>')
    iso = a.published.isoformat()
    return f"""<!DOCTYPE html>
<html lang="uk"><head><meta charset="utf-8">
<title>{esc(a.title)} | Новини {site}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{esc(a.paragraphs[0][:200])}">
<meta property="og:title" content="{esc(a.title)}"><meta property="og:url" content="{url}">
<meta property="og:image" content="{base}/s{site}/img/{number}.jpg">
<meta property="article:published_time" content="{iso}">
<link rel="canonical" href="{url}">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"{esc(a.title)}","datePublished":"{iso}",
"author":{{"@type":"Person","name":"{esc(a.author)}"}}}}</script>
{head}</head><body>{menu}{_news_line(site, number, sites, 30)}
<main><article class="article"><div class="lang-publication"><a href="#">Читати російською</a>
</div><h1>{esc(a.title)}</h1>
<div class="article_info"><span class="time">{a.published:%d.%m.%Y, %H:%M}</span>
<span class="author">{esc(a.author)}</span></div>
<div class="share"><a href="#fb">Facebook</a><a href="#tg">Telegram</a><a href="#x">X</a></div>
<div class="txt">{"".join(body)}</div>
<div class="intext-tags"><a href="/tag/1">Україна</a><a href="/tag/2">Політика</a></div>
</article><aside class="related"><h3>Читайте також</h3>
{_news_line(site, number + 40, sites, 12)}</aside></main>{footer}</body></html>""".encode()


def feed(base: str, site: int, feed_page: int, articles: int, sites: int) -> bytes:
    """RSS 2.0 page `feed_page` of `site`: FEED_ENTRIES items, the newest first."""
    start = feed_page * FEED_ENTRIES
    items = []
    for number in range(start, min(start + FEED_ENTRIES, articles)):
        a = article(site, number, sites)
        items.append(f"<item><title>{html.escape(a.title)}</title><link>{base}{a.path}</link>"
                     f"<guid isPermaLink=\"false\">s{site}-{number}</guid>"
                     f"<pubDate>{format_datetime(a.published)}</pubDate>"
                     f"<description>{html.escape(a.paragraphs[0][:200])}</description>"
                     "<category>Новини</category></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Новини {site}</title><link>{base}/s{site}/</link>"
            f"<description>Останні новини</description><language>uk</language>"
            f"{''.join(items)}</channel></rss>").encode()


def feed_pages(articles: int) -> int:
    return -(-articles // FEED_ENTRIES)


def sample(sites: int, articles: int, count: int) -> list[tuple[int, int]]:
    """(site, article) pairs spread evenly over the corpus, for the floor and the peer."""
    total = sites * articles
    step = max(total // max(count, 1), 1)
    return [(n % sites, n // sites) for n in range(0, total, step)][:count]
