"""Pages with known answers for the quality harness (bench/quality.py) and its test gate.

Two places: the shared corpus (`$AGGREGATOR_SHARED` or `../shared` next to the repo: fundus
gold JSON, newspaper4k .txt/.json pairs, the kraiany pages whose publication times the
MANIFEST states) and the project's own difficult pages in tests/pages/ (an .html with a .json
beside it). A field the gold does not know is None and is not scored; `date_known` tells an
unknown date from a page that has none.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "tests" / "pages"

# fundus publishers -> language of their gold page (the directory names are countries)
_FUNDUS_LANGUAGE = {"Kommersant": "ru", "GlobalNews": "en", "TheGuardian": "en",
                    "WashingtonPost": "en", "Tagesschau": "de", "SpiegelOnline": "de",
                    "LeMonde": "fr", "ElPais": "es", "LRT": "lt", "NRK": "no",
                    "TaipeiTimes": "en", "ua": "ru"}
# The MANIFEST's known publication times (Kyiv) of kraiany pages, by a part of the file name.
_KRAIANY = {"unian.ua__politics_991464": ("2014-10-02T07:21:00+03:00", "http://www.unian.ua/politics/991464-pare-zaklikala-ukrajinu-provoditi.html"),
            "pravda.com.ua__news_2014_09_29_7039242": ("2014-09-29T14:55:00+03:00", "http://www.pravda.com.ua/news/2014/09/29/7039242/"),
            "espreso.tv__news_2014_10_08_v_donecku_boyovyky": ("2014-10-08T14:08:00+03:00", "http://espreso.tv/news/2014/10/08/v_donecku_boyovyky_zakhopyly_pryva"),
            "espreso.tv__news_2014_10_02_u_luhansku_ditey": ("2014-10-02T16:31:00+03:00", "http://espreso.tv/news/2014/10/02/u_luhansku_ditey_novorosiyi_vzyaly")}


@dataclass(frozen=True)
class GoldPage:
    """One page and what is known about it."""

    name: str
    group: str  # fundus | newspaper4k | kraiany | own
    url: str
    html: bytes
    body: str | None = None
    title: str | None = None
    date: datetime | date | None = None
    date_known: bool = False  # True with date None: the page states no date at all
    language: str | None = None


def shared_dir() -> Path | None:
    """The shared corpus, or None where this checkout has none."""
    env = os.environ.get("AGGREGATOR_SHARED")
    path = Path(env) if env else ROOT.parent / "shared"
    return path / "corpus" if (path / "corpus" / "pages").is_dir() else None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace(" ", "T")) if value else None


def _fundus(pages: Path) -> list[GoldPage]:
    out = []
    for gold in sorted([*pages.glob("news/*/*/*.json"), pages / "ua/pravda-2026/Pravda.json"]):
        html = next(gold.parent.glob("*.html.gz"), None)
        if html is None:
            continue
        meta = next(iter((*gold.parent.glob("meta.info.*.json"),
                          *gold.parent.parent.glob("meta.info.*.json"))))
        url = json.loads(meta.read_text())[html.name]["url"]
        record = next(iter(json.loads(gold.read_text()).values()))
        body = record["body"]  # fundus's ArticleBody: summary, then sections of headline
        paragraphs = [*body.get("summary", []), *(  # and paragraphs
            p for s in body["sections"] for p in [*s.get("headline", []), *s["paragraphs"]])]
        name = "ua" if gold.parent.parent.name == "ua" else gold.parent.name
        out.append(GoldPage(gold.stem, "fundus", url, gzip.decompress(html.read_bytes()),
                            "\n".join(paragraphs), record["title"],
                            _when(record["publishing_date"]), True,
                            _FUNDUS_LANGUAGE.get(name)))
    return out


def _newspaper4k(pages: Path) -> list[GoldPage]:
    out = []
    for txt in sorted((pages / "newspaper4k").glob("*.txt")):
        meta = json.loads(txt.with_suffix(".json").read_text())
        out.append(GoldPage(txt.stem, "newspaper4k", meta["url"],
                            txt.with_suffix(".html").read_bytes(), txt.read_text(),
                            meta["title"], _when(meta.get("publish_date")),
                            meta.get("publish_date") is not None, meta.get("language")))
    return out


def _kraiany(pages: Path) -> list[GoldPage]:
    out = []
    for html in sorted((pages / "ua" / "kraiany").glob("*.html")):
        for key, (when, url) in _KRAIANY.items():
            if html.name.startswith(key):
                out.append(GoldPage(html.stem, "kraiany", url, html.read_bytes(),
                                    date=_when(when), date_known=True, language="uk"))
    return out


def own_pages() -> list[GoldPage]:
    """The project's own difficult pages: tests/pages/NAME.html with NAME.json (url, title,
    body paragraphs, date or null for a page without one, language)."""
    out = []
    for gold in sorted(OWN.glob("*.json")):
        meta = json.loads(gold.read_text())
        out.append(GoldPage(gold.stem, "own", meta["url"], gold.with_suffix(".html").read_bytes(),
                            "\n".join(meta["body"]), meta.get("title"), _when(meta.get("date")),
                            "date" in meta, meta.get("language")))
    return out


def all_pages() -> list[GoldPage]:
    """The shared corpus's gold pages (when present), then the project's own."""
    corpus = shared_dir()
    shared = [] if corpus is None else [
        *_fundus(corpus / "pages"), *_newspaper4k(corpus / "pages"), *_kraiany(corpus / "pages")]
    return [*shared, *own_pages()]
