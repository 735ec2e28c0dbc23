"""The outlets Ukrainian media cite most, and the Ukrainian sites themselves: one table.

Provenance turns a linked domain into a name and a named outlet into a URL with it (under the
name cites are stored by); the citation block names a cited outlet in the reader's language
with it. An outlet not in the table keeps the name found in the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outlet:
    name: str  # how a cite of it is stored (provenance links' label)
    domains: tuple[str, ...]  # registered domains, the first one its home
    names: dict[str, str] = field(default_factory=dict)  # per language, where not `name`
    aliases: tuple[str, ...] = ()  # other spellings met in texts

    def name_in(self, language: str) -> str:
        return self.names.get(language, self.name)

    def spellings(self) -> list[str]:
        return [self.name, *self.names.values(), *self.aliases]


def _ua(name: str, ru: str, en: str, de: str, *domains: str, aliases: tuple = ()) -> Outlet:
    return Outlet(name, domains, {"uk": name, "ru": ru, "en": en, "de": de}, aliases)


OUTLETS: tuple[Outlet, ...] = (
    Outlet("Politico", ("politico.eu", "politico.com"), aliases=("Політико", "Политико")),
    Outlet("Reuters", ("reuters.com",), aliases=("Рейтер", "Рейтерс")),
    Outlet("Bloomberg", ("bloomberg.com",), aliases=("Блумберг",)),
    Outlet("Financial Times", ("ft.com",), aliases=("FT",)),
    Outlet("The New York Times", ("nytimes.com",), aliases=("New York Times", "NYT")),
    Outlet("The Washington Post", ("washingtonpost.com",), aliases=("Washington Post",)),
    Outlet("The Guardian", ("theguardian.com",), aliases=("Guardian",)),
    Outlet("BBC", ("bbc.com", "bbc.co.uk"), aliases=("Бі-Бі-Сі", "Би-би-си", "BBC News")),
    Outlet("CNN", ("cnn.com",)),
    Outlet("Associated Press", ("apnews.com",), aliases=("AP",)),
    Outlet("Axios", ("axios.com",)),
    Outlet("The Wall Street Journal", ("wsj.com",), aliases=("Wall Street Journal", "WSJ")),
    Outlet("The Economist", ("economist.com",), aliases=("Economist",)),
    Outlet("Der Spiegel", ("spiegel.de",), aliases=("Spiegel",)),
    Outlet("Bild", ("bild.de",)),
    Outlet("Tagesschau", ("tagesschau.de",)),
    Outlet("Le Monde", ("lemonde.fr",)),
    Outlet("DW", ("dw.com",), aliases=("Deutsche Welle", "Дойче Велле")),
    Outlet("ISW", ("understandingwar.org",), {
        "uk": "Інститут вивчення війни (ISW)", "ru": "Институт изучения войны (ISW)",
        "en": "the Institute for the Study of War (ISW)",
        "de": "das Institute for the Study of War (ISW)",
    }, aliases=("Institute for the Study of War", "Інститут вивчення війни",
                "Институт изучения войны")),
    _ua("РБК-Україна", "РБК-Украина", "RBC-Ukraine", "RBK-Ukrajina", "rbc.ua"),
    _ua("Українська правда", "Украинская правда", "Ukrainska Pravda", "Ukrajinska Prawda",
        "pravda.com.ua"),
    _ua("УНІАН", "УНИАН", "UNIAN", "UNIAN", "unian.ua", "unian.net"),
    _ua("Укрінформ", "Укринформ", "Ukrinform", "Ukrinform", "ukrinform.ua"),
    _ua("Інтерфакс-Україна", "Интерфакс-Украина", "Interfax-Ukraine", "Interfax-Ukraine",
        "interfax.com.ua"),
    _ua("Суспільне", "Суспильне", "Suspilne", "Suspilne", "suspilne.media"),
    _ua("LIGA.net", "LIGA.net", "LIGA.net", "LIGA.net", "liga.net"),
    _ua("НВ", "НВ", "NV", "NV", "nv.ua"),
    _ua("ZN.UA", "ZN.UA", "ZN.UA", "ZN.UA", "zn.ua", aliases=("Дзеркало тижня",)),
    _ua("Громадське", "Громадское", "Hromadske", "Hromadske", "hromadske.ua"),
    _ua("Радіо Свобода", "Радио Свобода", "Radio Liberty", "Radio Swoboda", "radiosvoboda.org"),
    _ua("Еспресо", "Эспрессо", "Espreso", "Espreso", "espreso.tv"),
    _ua("The Kyiv Independent", "The Kyiv Independent", "The Kyiv Independent",
        "The Kyiv Independent", "kyivindependent.com"),
    _ua("Українські новини", "Украинские новости", "Ukrainian News", "Ukrainski Nowyny",
        "ukranews.com"),
)

BY_DOMAIN: dict[str, Outlet] = {d: o for o in OUTLETS for d in o.domains}
_BY_SPELLING: dict[str, Outlet] = {}
for _outlet in OUTLETS:
    for _spelling in _outlet.spellings():
        _BY_SPELLING.setdefault(_spelling.casefold(), _outlet)


def by_spelling(name: str) -> Outlet | None:
    """The outlet a name found in a text stands for, in any language or spelling."""
    return _BY_SPELLING.get(name.strip().casefold())
