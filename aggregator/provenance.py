"""Provenance links, cited sources and revision diffs: pure functions over text, links, URLs.

A cite is an attribution in the text ("з посиланням на Politico", "according to Reuters")
or a link in the body to another outlet; both become `cites` links with the outlet's name
and URL when known, so an rbc.ua retelling of a Politico story points at Politico.
"""

from __future__ import annotations

import difflib
import re

from aggregator.outlets import BY_DOMAIN, by_spelling
from aggregator.records import ArticleDraft, Cite, FeedEntry, Link
from aggregator.sources import Source
from aggregator.urls import registered_domain
from aggregator.vocabulary import LinkKind

# Domain -> the name cites are stored under (the table lives in aggregator/outlets.py).
OUTLETS = {domain: outlet.name for domain, outlet in BY_DOMAIN.items()}

_UPPER = "A-ZА-ЯІЇЄҐЁÄÖÜ"
# An outlet name: a quoted phrase, or one to four capitalised words ("The Wall Street Journal").
_WORD = rf"[{_UPPER}0-9][\w'’&-]*(?:\.\w+)*"  # LIGA.net, not "Politico. Next"
_NAME = (rf"(?P<name>«[^»]{{2,60}}»|\"[^\"]{{2,60}}\"|“[^”]{{2,60}}”|"
         rf"(?:The |Der |Die |Das )?{_WORD}(?:[ -]{_WORD}){{0,3}})")
_MEDIUM = (r"(?:(?:видання|агентства|агентство|телеканал|телеканалу|газету|газети|сайт|"
           r"издание|агентство|телеканал|газету|the newspaper|the agency|die Zeitung|"
           r"das Magazin)\s+)?")
_BEFORE = (r"з посиланням на|за даними|повідомляє|повідомило|повідомила|пише|"
           r"со ссылкой на|по данным|сообщает|сообщило|пишет|"
           r"citing|according to|reported by|unter Berufung auf|berichtet")
_ATTRIBUTION = re.compile(rf"(?i:\b(?:{_BEFORE})\s+){_MEDIUM}{_NAME}")
# Where an attribution can start: a lower-cased lead-in, found with str.find (the case-blind
# regex tried at every character cost 0.4 ms an article in the writer). Besides its own
# lower case, the regex's case-blind match takes these letters for the lead-ins' i, в, д, о,
# с, т (tests/test_identity.py checks the list against the whole of Unicode).
_LEAD_INS = tuple(_BEFORE.lower().split("|"))
_ODD_LETTERS = {"İ": "i", "ı": "i", "ᲀ": "в", "ᲁ": "д", "ᲂ": "о", "ᲃ": "с", "ᲄ": "т", "ᲅ": "т"}
_ALSO_MATCHING = str.maketrans(_ODD_LETTERS)
_REPORTED = ("reports", "reported", "повідомляє", "пише", "сообщает", "пишет")
_REPORTS = re.compile(rf"{_NAME}\s+(?:{'|'.join(_REPORTED)})\b")
_HEADLINE = re.compile(rf"^{_NAME}:\s")
_NOT_NAMES = {"про", "об", "это", "this", "the", "він", "вона", "они", "вони", "it", "es", "у", "в"}


def _clean(name: str) -> str | None:
    name = name.strip().strip("«»\"“”").rstrip(".,;:")
    if len(name) < 2 or name.casefold() in _NOT_NAMES:
        return None
    return name


def _lead_ins(text: str) -> list[int]:
    """Every offset where a lead-in starts, case-blind: a superset of where `_ATTRIBUTION`
    matches. Folding keeps every offset (İ, the one letter whose lower case is two, is
    folded first; the test checks every character)."""
    if any(c in text for c in _ODD_LETTERS):
        text = text.translate(_ALSO_MATCHING)
    folded = text.lower()
    found = set()
    for lead_in in _LEAD_INS:
        at = folded.find(lead_in)
        while at >= 0:
            found.add(at)
            at = folded.find(lead_in, at + 1)
    return sorted(found)


def _attributed(text: str) -> list[re.Match]:
    """What `_ATTRIBUTION.finditer(text)` yields, trying the regex only where a lead-in
    starts."""
    out: list[re.Match] = []
    end = 0
    for start in _lead_ins(text):
        if start >= end and (m := _ATTRIBUTION.match(text, start)):
            out.append(m)
            end = m.end()
    return out


def attributions(text: str, title: str | None = None) -> list[str]:
    """Outlet names the text attributes its facts to, in order of appearance."""
    found = []
    if title and (m := _HEADLINE.match(title)):
        found.append(m.group("name"))
    found += [m.group("name") for m in _attributed(text)]
    if any(word in text for word in _REPORTED):  # 20x cheaper than trying _NAME everywhere
        found += [m.group("name") for m in _REPORTS.finditer(text)]
    names = (_clean(n) for n in found)
    return list(dict.fromkeys(n for n in names if n))


def cited_sources(
    text: str, title: str | None, links: tuple[tuple[str, str], ...], page_url: str,
    own_names: tuple[str | None, ...] = (),
) -> list[Cite]:
    """Attributions and body links to other sites, merged by outlet; the page's own site and
    names (source title, sitename) are not cites."""
    own_domain = registered_domain(page_url)
    own = {n.casefold() for n in own_names if n} | {OUTLETS.get(own_domain, own_domain).casefold()}
    cites: dict[str, Cite] = {}
    for url, anchor in links:
        domain = registered_domain(url)
        if not domain or domain == own_domain:
            continue
        name = OUTLETS.get(domain) or _clean(anchor) or domain
        if name.casefold() not in own and name.casefold() not in cites:
            cites[name.casefold()] = Cite(name, url)
    for name in attributions(text, title):
        key = name.casefold()
        if key in own or key in cites:
            continue
        known = by_spelling(name)
        cites[key] = Cite(name, f"https://{known.domains[0]}/" if known else None)
    return list(cites.values())


def revision_diff(old: str, new: str, old_label: str = "before", new_label: str = "after") -> str:
    """A unified diff of two revisions of an article's text, line by line."""
    return "".join(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label, n=1,
    ))


def provenance_links(
    source: Source, draft: ArticleDraft, canonical: str, entry: FeedEntry | None,
    cites: list[Cite] = (),
) -> list[Link]:
    """Where the article came from and what it points to."""
    links = [
        Link(LinkKind.ORIGINAL, draft.url, draft.sitename or source.title),
        Link(LinkKind.FEED, source.url, entry.guid if entry else None),
    ]
    if entry and entry.link != draft.url:
        links.append(Link(LinkKind.REDIRECTED_FROM, entry.link))
    if canonical != draft.url:
        links.append(Link(LinkKind.CANONICAL, canonical))
    links += [Link(LinkKind.ALTERNATE, url, lang) for lang, url in draft.alternates
              if url != draft.url]
    links += [Link(LinkKind.CITES, cite.url, cite.outlet) for cite in cites]
    return links


def unseen(links: list[Link], seen: set[tuple]) -> list[Link]:
    """The links not recorded yet, each once. A link is its kind and URL, or its kind and label
    where it has no URL (an outlet named in the text); `seen` holds such pairs, and grows."""
    out = []
    for link in links:
        if (link.kind, link.url or link.label) not in seen:
            seen.add((link.kind, link.url or link.label))
            out.append(link)
    return out


def sighting_links(source_name: str, source_url: str, stored_url: str, listed: str,
                   guid: str | None) -> list[Link]:
    """What another source's listing of a stored article adds: its feed (with the GUID) and
    the URL it listed, when that is not the stored article's."""
    links = [Link(LinkKind.FEED, source_url, guid)]
    if listed != stored_url:
        links.append(Link(LinkKind.LISTED_AS, listed, source_name))
    return links
