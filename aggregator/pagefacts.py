"""What the publisher states about an article in its markup: the headline, the publication
date with where it came from and how precise it is, and its own structured body.

A date is taken only from places a publisher puts one on purpose (meta tags, JSON-LD,
`<time>`, a dated byline element); never from a year or a day that happens to occur in the
text, which is how re-published pages without any date got "published" on 1 January 2010.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import html as lxml_html

from aggregator.dates import LOCAL_TZ, parse_timestamp, precision_of
from aggregator.pagescan import PageScan
from aggregator.selectors import block_text, text_of
from aggregator.vocabulary import DatePrecision, DateSource

_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datePublished",
                   "pubdate", "publishdate", "publish-date", "date", "dc.date",
                   "dc.date.issued", "sailthru.date", "parsely-pub-date")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "dateModified", "lastmod")
_MONTHS = {
    **dict.fromkeys(("січня", "января", "january", "jan"), 1),
    **dict.fromkeys(("лютого", "февраля", "february", "feb"), 2),
    **dict.fromkeys(("березня", "марта", "march", "mar"), 3),
    **dict.fromkeys(("квітня", "апреля", "april", "apr"), 4),
    **dict.fromkeys(("травня", "мая", "may"), 5),
    **dict.fromkeys(("червня", "июня", "june", "jun"), 6),
    **dict.fromkeys(("липня", "июля", "july", "jul"), 7),
    **dict.fromkeys(("серпня", "августа", "august", "aug"), 8),
    **dict.fromkeys(("вересня", "сентября", "september", "sep", "sept"), 9),
    **dict.fromkeys(("жовтня", "октября", "october", "oct"), 10),
    **dict.fromkeys(("листопада", "ноября", "november", "nov"), 11),
    **dict.fromkeys(("грудня", "декабря", "december", "dec"), 12),
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(rf"(?i)\b(\d{{1,2}})\s+({_MONTH})\.?,?\s+(\d{{4}})")
_MONTH_DAY_YEAR = re.compile(rf"(?i)\b({_MONTH})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})")
_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
# Elements a publisher marks as the article's date; lists and links (other stories) are not.
_DATED_TAGS = {"div", "span", "p", "time", "small"}
_DATED_CLASS = re.compile(r"date|time|publish|posted|^dt2$")
_ELSEWHERE = "ancestor::a or ancestor::li or ancestor::aside or ancestor::footer or ancestor::nav"
_AUTHOR_CLASS = re.compile(r"author")
_SITE_SUFFIX = re.compile(r"\s+(?:[|—–]|-|::|·)\s+[^|—–]{2,40}$")
_AUTHOR_NOISE = re.compile(r"(?i)^(?:фото|photo|джерело|источник|source|автор|author|by)\b\s*:?\s*")
_AUTHOR_DATE = re.compile(r"\s*[,|·]?\s*\d{1,2}[./:]\d{1,2}(?:[./]\d{2,4})?.*$")


@dataclass(frozen=True)
class StatedDate:
    """A publication date as the publisher stated it."""

    when: datetime
    source: DateSource
    precision: DatePrecision


def _stated(value: str | None, source: DateSource) -> StatedDate | None:
    when = parse_timestamp(value)
    return StatedDate(when, source, precision_of(value)) if when else None


def json_ld(tree) -> list[dict]:
    """Every JSON-LD object on the page (graphs and lists flattened)."""
    out, stack = [], []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            stack.append(json.loads(script))
        except ValueError:
            continue
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            out.append(item)
            stack.extend(v for v in item.values() if isinstance(v, (list, dict)))
    return out


def meta_map(tree) -> dict[str, str]:
    """Every non-empty <meta> content by its property, name or itemprop (first one wins)."""
    found: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content]"):
        for attr in ("property", "name", "itemprop"):
            key, content = meta.get(attr), meta.get("content").strip()
            if key and content:
                found.setdefault(key, content)
    return found


def _meta(metas: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((metas[name] for name in names if name in metas), None)




def _byline_date(text: str) -> tuple[datetime, bool] | None:
    """A day written out in a dated element ("29 вересня 2014, 14:55", "02.10.2014 | 07:21")."""
    if m := _DAY_MONTH_YEAR.search(text):
        day, month, year = int(m[1]), _MONTHS[m[2].lower()], int(m[3])
    elif m := _MONTH_DAY_YEAR.search(text):
        day, month, year = int(m[2]), _MONTHS[m[1].lower()], int(m[3])
    elif m := _NUMERIC.search(text):
        day, month, year = (int(m[1]), int(m[2]), int(m[3])) if m[1] else (
            int(m[6]), int(m[5]), int(m[4]))
    else:
        return None
    clock = _CLOCK.search(text[m.end():]) or _CLOCK.search(text)
    hour, minute = (int(clock[1]), int(clock[2])) if clock else (0, 0)
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)
    except ValueError:
        return None
    return local.astimezone(timezone.utc), clock is not None


def _dated_element(scan: PageScan) -> StatedDate | None:
    """The element marked as a date whose own short text holds a day: one inside the
    article first, one with a time of day next (a site header's "today" has none), else
    the first; a clock in the element that follows completes a bare day (espreso:
    <div class="date">, <div class="time">)."""
    found = []
    marked = [n for n in scan.classed(_DATED_CLASS, _DATED_TAGS) if not n.xpath(_ELSEWHERE)]
    for order, node in enumerate(marked):
        text = text_of(node)
        if not 6 <= len(text) <= 80 or (day := _byline_date(text)) is None:
            continue
        when, timed = day
        nxt = node.getnext()
        after = text_of(nxt)[:20] if nxt is not None else ""
        if not timed and _CLOCK.fullmatch(after or "-"):
            when, timed = _byline_date(f"{text} {after}")
        inside = bool(node.xpath("ancestor::article or ancestor::main"))
        found.append(((not inside, not timed, order), when, timed))
    if not found:
        return None
    _, when, timed = min(found, key=lambda f: f[0])
    return StatedDate(when, DateSource.PAGE, DatePrecision.SECOND if timed else DatePrecision.DAY)


def publication_date(tree, ld: list[dict], metas: dict[str, str],
                     scan: PageScan | None = None) -> StatedDate | None:
    """The publisher's date: meta tags, then JSON-LD, then <time>, then a dated byline."""
    if stated := _stated(_meta(metas, _PUBLISHED_META), DateSource.PAGE):
        return stated
    for item in ld:
        if isinstance(item.get("datePublished"), str):
            if stated := _stated(item["datePublished"], DateSource.STRUCTURED):
                return stated
    times = tree.xpath('//time[@itemprop="datePublished"]/@datetime | '
                       '//time[@pubdate]/@datetime | //article//time[@datetime]/@datetime | '
                       '//time[@datetime][not(ancestor::a or ancestor::li)]/@datetime')
    for value in times:
        if stated := _stated(value, DateSource.PAGE):
            return stated
    return _dated_element(scan or PageScan(tree))


def modified_date(metas: dict[str, str], ld: list[dict]) -> datetime | None:
    value = _meta(metas, _MODIFIED_META) or next(
        (i["dateModified"] for i in ld if isinstance(i.get("dateModified"), str)), None)
    return parse_timestamp(value)


def strip_site(title: str, sitenames: tuple[str | None, ...]) -> str:
    """A headline without the outlet's name tacked on ("… | РБК-Україна", "… — УНІАН")."""
    title = " ".join(title.split())
    for name in filter(None, sitenames):
        for sep in (" | ", " — ", " – ", " - ", " :: ", " · "):
            if title.lower().endswith((sep + name).lower()):
                return title[: -len(sep + name)].strip()
    return title


def headline(tree, ld: list[dict], metas: dict[str, str], extracted: str | None,
             sitename: str | None) -> str | None:
    """The article's own headline, the site's name cut off: the candidate (og:title, JSON-LD
    headline, <h1>) that the page's <title> repeats; else the <h1> that og:title or the
    JSON-LD headline agree with; else og:title / JSON-LD headline; else a lone <h1>; else
    trafilatura's title."""
    names = (sitename, _meta(metas, ("og:site_name", "application-name")))
    og = _meta(metas, ("og:title", "twitter:title"))
    ld_head = next((i["headline"] for i in ld if isinstance(i.get("headline"), str)), None)
    stated = [strip_site(t, names) for t in (og, ld_head) if t]
    h1s = [text_of(h) for h in tree.xpath("//h1")]
    h1s = [h for h in h1s if 3 <= len(h) <= 300]
    page = _SITE_SUFFIX.sub("", strip_site(tree.findtext(".//title") or "", names))
    for candidate in (*stated, *h1s):  # the one the page's <title> repeats
        if page and candidate.casefold() == page.casefold():
            return candidate
    for h in h1s:
        if any(h.casefold() == s.casefold() or s.casefold().startswith(h.casefold())
               for s in stated):
            return h
    if stated:
        return stated[0]
    if len(h1s) == 1:
        return h1s[0]
    if extracted:
        cleaned = strip_site(extracted, names)
        return _SITE_SUFFIX.sub("", cleaned) if h1s and cleaned not in h1s else cleaned
    return None


def clean_authors(names: tuple[str, ...]) -> tuple[str, ...]:
    """Bylines without "Фото:"/"Джерело:" labels, trailing dates or photo credits."""
    out = []
    for name in names:
        if re.match(r"(?i)^(?:фото|photo|джерело|источник|source)\b", name.strip()):
            continue
        name = _AUTHOR_NOISE.sub("", name.strip())
        for dateline in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR, _AUTHOR_DATE):
            name = dateline.sub("", name)  # "2 жовтня, 2014" is no one's name
        name = name.strip(" ,;|")
        if name and re.search(r"[^\W\d]", name) and len(name) <= 80:
            out.append(name)
    return tuple(dict.fromkeys(out))


def structured_body(tree, ld: list[dict]) -> str | None:
    """The publisher's own body as JSON-LD articleBody states it."""
    for item in ld:
        body = item.get("articleBody")
        if isinstance(body, str) and body.strip():
            if "<" in body:  # some publishers put their HTML in it
                body = "\n".join(block_text(p) for p in lxml_html.fragments_fromstring(
                    f"<div>{body}</div>") if not isinstance(p, str))
            return "\n".join(line.strip() for line in body.splitlines() if line.strip())
    return None


def _ld_authors(ld: list[dict]) -> tuple[str, ...]:
    names = []
    for item in ld:
        found = item.get("author")
        for one in found if isinstance(found, list) else [found]:
            name = one.get("name") if isinstance(one, dict) else one
            if isinstance(name, str):
                names.append(name)
        if names:
            break
    return tuple(names)


def authors(tree, ld: list[dict], *given: tuple[str, ...],
            scan: PageScan | None = None) -> tuple[str, ...]:
    """The first of: the given lists (rule, library), JSON-LD `author`, the page's byline
    elements (class "author"), that still names someone once cleaned."""
    for names in (*given, _ld_authors(ld)):
        if cleaned := clean_authors(names):
            return cleaned
    bylines = [text_of(n) for n in (scan or PageScan(tree)).classed(_AUTHOR_CLASS)
               if not n.xpath(f"{_ELSEWHERE} or descendant::p")]
    return clean_authors(tuple(bylines[:3]))
