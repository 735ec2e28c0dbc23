"""Our own test news sites: article pages and feeds modelled on real Ukrainian outlets.

The markup imitates rbc.ua and pravda.com.ua (navigation, share bars, "read also" blocks,
tag lists, ad slots around an <article>), the texts are written for these tests.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime

NAV = """
<header class="header"><div class="logo"><a href="/">{site}</a></div>
<nav class="menu"><ul>
<li><a href="/ukr/news">Новини</a></li><li><a href="/ukr/politics">Політика</a></li>
<li><a href="/ukr/economic">Економіка</a></li><li><a href="/ukr/war">Війна</a></li>
<li><a href="/ukr/styler">Стайлер</a></li><li><a href="/ukr/travel">Подорожі</a></li>
</ul></nav>
<div class="newsline"><h3>Стрічка новин</h3><ul>
<li><a href="/ukr/news/a1">У Києві відкрили новий міст через Дніпро</a></li>
<li><a href="/ukr/news/a2">Курс валют на завтра: гривня зміцнилася</a></li>
<li><a href="/ukr/news/a3">Синоптики попередили про сильний вітер</a></li>
</ul></div></header>
"""

FOOTER = """
<footer class="footer"><p>© 2026 {site}. Усі права захищені. Використання матеріалів
дозволяється за умови посилання на сайт.</p><ul><li><a href="/about">Про нас</a></li>
<li><a href="/contacts">Контакти</a></li><li><a href="/privacy">Конфіденційність</a></li></ul>
</footer>
"""


@dataclass
class Story:
    """One article as an outlet publishes it."""

    slug: str
    title: str
    paragraphs: list[str]
    published: datetime
    author: str = "Олена Коваленко"
    language: str = "uk"
    lead: str | None = None
    tags: list[str] = field(default_factory=list)
    alternates: dict[str, str] = field(default_factory=dict)  # hreflang -> absolute URL

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def article_page(story: Story, url: str, site: str = "РБК-Україна", charset: str = "utf-8",
                 declared_charset: str | None = None) -> bytes:
    """An rbc.ua-like article page; `declared_charset` lets a page lie about its encoding."""
    esc = html.escape
    paragraphs = "\n".join(f"<p>{esc(p)}</p>" for p in story.paragraphs)
    middle = len(story.paragraphs) // 2
    body_parts = paragraphs.split("\n")
    body_parts.insert(middle, '<div class="read-in-google"><a href="/g">Читайте РБК-Україна '
                              'в Google News</a></div><ins class="adsbygoogle"></ins>')
    alternates = "\n".join(
        f'<link rel="alternate" hreflang="{lang}" href="{esc(href)}">'
        for lang, href in story.alternates.items()
    )
    tags = "".join(f'<a href="/tag/{esc(t)}">{esc(t)}</a>' for t in story.tags)
    iso = story.published.isoformat()
    declared = declared_charset or charset
    page = f"""<!DOCTYPE html>
<html lang="{story.language}"><head>
<meta charset="{declared}">
<title>{esc(story.title)} | {esc(site)}</title>
<meta name="description" content="{esc(story.lead or story.paragraphs[0])}">
<meta property="og:title" content="{esc(story.title)}">
<meta property="og:url" content="{esc(url)}">
<meta property="og:image" content="{esc(url.rsplit('/', 1)[0])}/img/{story.slug}.jpg">
<meta property="article:published_time" content="{iso}">
<link rel="canonical" href="{esc(url)}">
{alternates}
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"{esc(story.title)}","datePublished":"{iso}",
"author":{{"@type":"Person","name":"{esc(story.author)}"}}}}</script>
</head><body>
{NAV.format(site=esc(site))}
<main><article class="article">
<div class="lang-publication"><a href="#">Читати російською</a></div>
<h1>{esc(story.title)}</h1>
<div class="article_info"><span class="time">{story.published:%d.%m.%Y, %H:%M}</span>
<span class="author">{esc(story.author)}</span></div>
<div class="share"><a href="#fb">Facebook</a><a href="#tg">Telegram</a><a href="#x">X</a></div>
<div class="txt">
{chr(10).join(body_parts)}
</div>
<div class="intext-tags">{tags}</div>
</article>
<aside class="related"><h3>Читайте також</h3><ul>
<li><a href="/ukr/news/r1">Уряд ухвалив нове рішення щодо тарифів</a></li>
<li><a href="/ukr/news/r2">Що відомо про нові правила перетину кордону</a></li>
</ul></aside></main>
{FOOTER.format(site=esc(site))}
</body></html>"""
    return page.encode(charset)


def rss(items: list[tuple[Story, str]], title: str = "РБК-Україна", extra_item: str = "") -> bytes:
    """RSS 2.0 with one <item> per (story, url); `extra_item` is spliced in raw."""
    entries = []
    for story, url in items:
        entries.append(f"""<item>
<title>{html.escape(story.title)}</title>
<link>{html.escape(url)}</link>
<guid isPermaLink="false">{story.slug}</guid>
<pubDate>{format_datetime(story.published)}</pubDate>
<description>{html.escape(story.lead or story.paragraphs[0])}</description>
<category>Новини</category>
</item>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>{html.escape(title)}</title><link>http://127.0.0.1/</link>
<description>Останні новини</description><language>uk</language>
{extra_item}
{"".join(entries)}
</channel></rss>""".encode()


def atom(items: list[tuple[Story, str]], title: str = "Атом-стрічка") -> bytes:
    entries = "".join(
        f"""<entry><title>{html.escape(s.title)}</title>
<link rel="alternate" href="{html.escape(u)}"/><id>urn:story:{s.slug}</id>
<updated>{s.published.astimezone(timezone.utc).isoformat()}</updated>
<author><name>{html.escape(s.author)}</name></author>
<summary>{html.escape(s.lead or s.paragraphs[0])}</summary></entry>"""
        for s, u in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{html.escape(title)}</title>
<id>urn:feed:test</id><updated>2026-11-20T10:00:00Z</updated>{entries}</feed>""".encode()


def sitemap(urls: list[dict]) -> bytes:
    """A urlset; each dict has `loc` and optionally `lastmod`, and news `title`, `published`
    and `language` (which make it a Google News sitemap entry)."""
    items = []
    for u in urls:
        news = ""
        if "title" in u:
            news = (f"<news:news><news:publication><news:name>Test</news:name>"
                    f"<news:language>{u.get('language', 'uk')}</news:language></news:publication>"
                    f"<news:publication_date>{u['published'].isoformat()}</news:publication_date>"
                    f"<news:title>{html.escape(u['title'])}</news:title></news:news>")
        lastmod = f"<lastmod>{u['lastmod'].isoformat()}</lastmod>" if "lastmod" in u else ""
        items.append(f"<url><loc>{html.escape(u['loc'])}</loc>{lastmod}{news}</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            + "".join(items) + "</urlset>").encode()


def sitemap_index(children: list[tuple[str, datetime | None]]) -> bytes:
    items = "".join(
        f"<sitemap><loc>{html.escape(loc)}</loc>"
        + (f"<lastmod>{when.isoformat()}</lastmod>" if when else "") + "</sitemap>"
        for loc, when in children)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex '
            'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + items
            + "</sitemapindex>").encode()


def listing_page(links: list[tuple[str, str]], next_url: str | None = None) -> bytes:
    """A news-line page like rbc.ua's: items in <div class="item">, a "more" pager link."""
    items = "".join(f'<div class="item"><span class="time">09:15</span>'
                    f'<a href="{html.escape(u)}">{html.escape(t)}</a></div>' for u, t in links)
    pager = f'<a class="next" href="{html.escape(next_url)}">Далі</a>' if next_url else ""
    return (f'<!DOCTYPE html><html lang="uk"><head><meta charset="utf-8"><title>Новини</title>'
            f'</head><body>{NAV.format(site="Тест")}<div class="news-feed">{items}</div>'
            f'<div class="pager">{pager}</div>{FOOTER.format(site="Тест")}</body></html>').encode()
