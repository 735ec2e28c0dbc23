"""The web view in a real Chromium (Debian's /usr/bin/chromium through Playwright), over a
database filled by crawling loopback outlets; on SQLite and PostgreSQL.

A reader opens the list, searches a Cyrillic word, opens the story, sees the screenshot of the
original beside the text and follows a copy's provenance to its original. Hostile stored
titles, texts and HTML execute nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from aggregator.browser import CHROMIUM_ARGS, SYSTEM_CHROMIUM
from tests.desk import NEW_TITLE, Web, fill
from tests.helpers import Workspace
from tests.httpsite import Site


@pytest.fixture(scope="module")
def browser_bed(module_db_url, tmp_path_factory):
    if not Path(SYSTEM_CHROMIUM).exists():
        pytest.fail("chromium missing at /usr/bin/chromium: .ci/services.sh installs it")
    workspace = Workspace(tmp_path_factory.mktemp("desk"), module_db_url)
    (workspace.config / "sources").mkdir(parents=True)
    with Site() as site, Site() as other:
        facts = fill(site, other, workspace)
        with Web(workspace) as web, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(SYSTEM_CHROMIUM), headless=True,
                                         args=list(CHROMIUM_ARGS))
            yield facts, web, browser
            browser.close()


def test_list_search_story_screenshot_and_provenance(browser_bed):
    facts, web, browser = browser_bed
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(web.base + "/")
    assert page.locator("li.story").count() >= 3
    page.fill("input[name=q]", "енергетика")
    page.click("button[type=submit]")
    assert "q=" in page.url
    first = page.locator("li.story h2 a").first
    assert first.inner_text() == NEW_TITLE
    assert page.locator("li.story .thumb img").first.evaluate("i => i.naturalWidth") > 0
    first.click()
    page.wait_for_load_state("load")
    assert page.locator("article.storypage > h1").inner_text() == NEW_TITLE
    shot = page.locator("#primary-shot")
    shot.wait_for()
    page.wait_for_function("document.getElementById('primary-shot').complete")
    assert shot.evaluate("i => i.naturalWidth") > 0
    text_box, shot_box = page.locator("section.text").bounding_box(), shot.bounding_box()
    assert shot_box["x"] > text_box["x"] + text_box["width"] / 2  # beside the text, not below
    assert shot_box["y"] < text_box["y"] + text_box["height"]

    # a copy's provenance: open its details, follow the link to its original
    copy = page.locator("details.copy", has_text="Кореспондент")
    copy.locator("summary").click()
    chain = copy.locator("ol.chain")
    assert "feed entry" in chain.inner_text() and "file matches" in chain.inner_text()
    chain.locator("a.original").click()
    page.wait_for_load_state("load")
    assert page.url == facts.korr_url
    assert errors == []


def test_articles_and_sources_pages(browser_bed):
    facts, web, browser = browser_bed
    page = browser.new_page()
    page.goto(web.base + "/sources")
    assert page.locator("table.sources tbody tr").count() >= 3
    assert page.locator("svg.chart").first.is_visible()
    page.goto(web.base + "/?q=" + "енергетика")
    page.locator("li.story h2 a").first.click()
    page.locator("a", has_text="revisions and evidence").first.click()
    page.wait_for_load_state("load")
    diff = page.locator("details.revision").first
    assert diff.locator("ins").count() and diff.locator("del").count()
    assert "the stored file still matches" in page.inner_text("table.facts")
    assert page.locator("figure.fullshot img").evaluate("i => i.naturalWidth") > 0


def test_hostile_stored_content_executes_nothing(browser_bed):
    facts, web, browser = browser_bed
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = web.json("/api/v1/stories?source=hostile")["items"][0]
    for path in ("/", "/?source=hostile", f"/stories/{hostile['id']}",
                 f"/articles/{hostile['primary']['id']}", "/sources"):
        answer = page.goto(web.base + path)
        assert "script-src 'none'" in answer.headers["content-security-policy"]
        for link in page.locator("a").all():  # try every link that is not a way out
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith("javascript:"), href
        for clickable in page.locator("main p, main a[href^='#'], main img").all()[:30]:
            clickable.dispatch_event("click")
        page.wait_for_timeout(200)
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        assert page.locator("main script").count() == 0
        assert page.locator("main [onerror], main [onclick], main iframe").count() == 0
    assert dialogs == []
    # the hostile title is shown, as text
    page.goto(web.base + f"/stories/{hostile['id']}")
    title = page.locator("article.storypage > h1").inner_text()
    assert "<script>window.__pwned=2</script>" in title
