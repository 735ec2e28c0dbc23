"""The citation block a desk prints under an article: who reports it and whom it cites, the
link to the original, the screenshot caption, the publication time in Kyiv and, above a
translation, the machine-translation note naming the engine.

`cite` is a pure function of stored facts and one language's templates; it gives the block
as text, Markdown and HTML (every value escaped for its format, so a headline or outlet name
can never inject markup). Templates come from `<config>/citation.yaml`, validated once by
`load_citation_config` (docs/configuration.md, "Citation block").
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from string import Formatter
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aggregator.errors import ConfigError
from aggregator.outlets import BY_DOMAIN, by_spelling
from aggregator.settings import world_writable
from aggregator.sources import Source
from aggregator.urls import registered_domain
from aggregator.views import ArticleView, Citation
from aggregator.vocabulary import TranslationStatus
from aggregator.yamlfile import YamlProblem, load_file

CITATION_FILE = "citation.yaml"
KYIV = ZoneInfo("Europe/Kyiv")
# Placeholders each template may use, and those it must use.
PLACEHOLDERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "machine_translation": (frozenset({"engine"}), frozenset()),
    "screenshot": (frozenset({"site"}), frozenset()),
    "reports": (frozenset({"source"}), frozenset({"source"})),
    "reports_citing": (frozenset({"source", "cited"}), frozenset({"source", "cited"})),
    "published": (frozenset({"date", "time"}), frozenset()),
    "original": (frozenset({"link", "site"}), frozenset({"link"})),
    "and": (frozenset(), frozenset()),
}


class Templates(BaseModel):
    """One language's sentences; `{name}` placeholders only, no attribute or index access."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    machine_translation: str = Field(description="Note above a machine translation: {engine}.")
    screenshot: str = Field(description="Caption of the screenshot of the original: {site}.")
    reports: str = Field(description="Who reports it, when it cites nobody: {source}.")
    reports_citing: str = Field(description="Who reports it and whom it cites: {source}, {cited}.")
    published: str = Field(description="Publication time in Kyiv: {date}, {time}.")
    original: str = Field(description="Link to the original: {link} (the URL), {site}.")
    and_: str = Field(alias="and", description="Joins the last two cited outlets.")
    date_format: str = Field("%d.%m.%Y", description="strftime format of {date}.")
    time_format: str = Field("%H:%M", description="strftime format of {time}.")

    @model_validator(mode="after")
    def _placeholders(self) -> Templates:
        for key, (allowed, required) in PLACEHOLDERS.items():
            template = getattr(self, "and_" if key == "and" else key)
            try:
                used = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from exc
            if unknown := used - allowed:
                raise ValueError(f"{key}: unknown placeholder(s) {sorted(unknown)}; "
                                 f"allowed: {sorted(allowed) or 'none'}")
            if missing := required - used:
                raise ValueError(f"{key}: must contain {', '.join(f'{{{m}}}' for m in missing)}")
        return self


class CitationConfig(BaseModel):
    """`citation.yaml`: templates per language, in the order exports list them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: dict[str, Templates]

    @model_validator(mode="after")
    def _codes(self) -> CitationConfig:
        for code in self.languages:
            if not re.fullmatch(r"[a-z]{2}", code):
                raise ValueError(f"languages: {code!r} is not an ISO 639-1 language code")
        return self


def load_citation_config(config_dir: Path) -> CitationConfig | None:
    """`<config_dir>/citation.yaml`, validated; None when the file is absent (no block)."""
    path = Path(config_dir) / CITATION_FILE
    if not path.exists():
        return None
    if problem := world_writable(path):
        raise ConfigError(f"{path}: {problem}")
    try:
        data = load_file(path) or {}
        return CitationConfig(**data)
    except YamlProblem as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except (TypeError, ValidationError) as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()) if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(f"{path}: {problems}") from exc


@dataclass(frozen=True)
class CitationFacts:
    """What the block is made of, all of it stored: no page is fetched to cite."""

    url: str
    source_title: str
    source_names: Mapping[str, str] = field(default_factory=dict)  # the outlet, per language
    cited: tuple[tuple[str, str | None], ...] = ()  # (name found, URL if known), in order
    screenshot: bool = False  # captured, or queued
    published_at: datetime | None = None
    engines: Mapping[str, str] = field(default_factory=dict)  # language -> engine translating


@dataclass(frozen=True)
class _Link:
    text: str
    url: str


def facts_of(article: ArticleView, source: Source | None) -> CitationFacts:
    """Gather the facts from an article as read, and its source file when it still exists."""
    names = dict(outlet.names) if (outlet := BY_DOMAIN.get(registered_domain(article.url))) else {}
    names.update(dict(source.names) if source else {})
    shot = article.screenshot
    engines: dict[str, str] = {}
    for t in sorted(article.translations, key=lambda t: (t.revision, t.id)):
        if t.status == TranslationStatus.DONE:
            engines[t.language] = t.engine_name or t.engine or "?"
    return CitationFacts(
        url=article.url, source_title=article.source_title, source_names=names,
        cited=tuple((link.label or link.url or "", link.url) for link in article.provenance
                    if link.kind == "cites" and (link.label or link.url)),
        screenshot=shot is not None and shot.outcome in ("pending", "captured"),
        published_at=article.published_at, engines=engines,
    )


def outlet_name(name: str, url: str | None, language: str) -> str:
    """A cited outlet in `language`: the table's name (by its site, else by the name found),
    else the name as found in the text."""
    outlet = BY_DOMAIN.get(registered_domain(url)) if url else None
    outlet = outlet or by_spelling(name)
    return outlet.name_in(language) if outlet else name


def _listing(names: list[str], conjunction: str) -> str:
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def cite(facts: CitationFacts, templates: Templates, language: str) -> Citation:
    """The block in one language, as text, Markdown and HTML."""
    site = registered_domain(facts.url)
    cited = list(dict.fromkeys(outlet_name(n, u, language) for n, u in facts.cited))
    source = facts.source_names.get(language) or facts.source_title
    lines: list[tuple[str, str, dict]] = []
    if engine := facts.engines.get(language):
        lines.append(("machine-translation", templates.machine_translation, {"engine": engine}))
    if facts.screenshot:
        lines.append(("screenshot", templates.screenshot, {"site": site}))
    if cited:
        lines.append(("reports", templates.reports_citing,
                      {"source": source, "cited": _listing(cited, templates.and_)}))
    else:
        lines.append(("reports", templates.reports, {"source": source}))
    if facts.published_at is not None:
        local = facts.published_at.astimezone(KYIV)
        lines.append(("published", templates.published,
                      {"date": local.strftime(templates.date_format),
                       "time": local.strftime(templates.time_format)}))
    lines.append(("original", templates.original, {"link": _Link(facts.url, facts.url),
                                                   "site": site}))
    return Citation(
        text="\n".join(_render(t, v, _plain) for _, t, v in lines),
        markdown="\n\n".join(_render(t, v, _markdown) for _, t, v in lines),
        html=f'<div class="citation" lang="{language}">' + "".join(
            f'<p class="{cls}">{_render(t, v, _html)}</p>' for cls, t, v in lines) + "</div>",
    )


def citations(facts: CitationFacts, config: CitationConfig | None) -> dict[str, Citation]:
    """The block in every configured language, in the file's order."""
    if config is None:
        return {}
    return {lang: cite(facts, templates, lang) for lang, templates in config.languages.items()}


def _render(template: str, values: dict, escape) -> str:
    out = []
    for literal, name, _, _ in Formatter().parse(template):
        out.append(escape(literal))
        if name is not None:
            out.append(escape(values.get(name, "")))
    return "".join(out)


def _plain(value: str | _Link) -> str:
    return value.url if isinstance(value, _Link) else value


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _markdown(value: str | _Link) -> str:
    if isinstance(value, _Link):
        if urlsplit(value.url).scheme not in ("http", "https"):
            return _MD_SPECIAL.sub(r"\\\1", value.url)
        text = _MD_SPECIAL.sub(r"\\\1", value.text)
        target = quote(value.url, safe=":/?#[]@!$&'*+,;=%~.-_")  # no spaces, no parentheses
        return f"[{text}]({target})"
    return _MD_SPECIAL.sub(r"\\\1", value)


def _html(value: str | _Link) -> str:
    if isinstance(value, _Link):
        if urlsplit(value.url).scheme not in ("http", "https"):
            return html.escape(value.text)
        return f'<a href="{html.escape(value.url, quote=True)}">{html.escape(value.text)}</a>'
    return html.escape(value, quote=True)


def citer(config: CitationConfig | None, sources: Iterable[Source]
          ) -> Callable[[ArticleView], dict[str, Citation]]:
    """Articles -> their blocks in every configured language, names from these source files."""
    by_name = {s.name: s for s in sources}
    return lambda article: citations(facts_of(article, by_name.get(article.source)), config)
