from aggregator.urls import canonical_url, choose_canonical, same_site


def test_canonical_drops_tracking_and_fragment_and_sorts_query():
    tracked = "https://WWW.RBC.ua/ukr/news/x.html?utm_source=fb&b=2&a=1&fbclid=z#top"
    assert canonical_url(tracked) == "https://www.rbc.ua/ukr/news/x.html?a=1&b=2"


def test_declared_canonical_is_trusted_only_on_the_same_site():
    page = "https://www.rbc.ua/ukr/news/x.html?utm_medium=tg"
    assert choose_canonical(page, "https://www.rbc.ua/ukr/news/x.html", ("rbc.ua",)) == \
        "https://www.rbc.ua/ukr/news/x.html"
    assert choose_canonical(page, "https://spam.example/x", ("rbc.ua",)) == \
        "https://www.rbc.ua/ukr/news/x.html"


def test_same_site_matches_subdomains_only():
    assert same_site("https://www.rbc.ua/a", ("rbc.ua",))
    assert not same_site("https://notrbc.ua/a", ("rbc.ua",))
