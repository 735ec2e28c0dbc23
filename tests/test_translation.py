"""Translation through each engine into real databases: LibreTranslate and DeepL against
loopback stand-ins that follow their documented HTTP contracts (tests/translation_services.py:
stand-ins, not translators), `command` with a real program. Failures, time-outs, 429, a
missing engine, revisions, the queue's scope, and keys that never leak."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update

from aggregator.cli.status import translation_line
from aggregator.db import translations as queue
from aggregator.db.engine import Database
from aggregator.db.models import ArticleRevision, Translation
from aggregator.db.queries import get_article
from aggregator.export import article_record
from aggregator.ingest import Arrival, Ingestor
from aggregator.ledger import CrawlLedger
from aggregator.records import ArticleDraft, FetchRecord
from aggregator.settings import Settings
from aggregator.sources import Source
from aggregator.translation.engine import Limits, batches, pieces
from aggregator.translation.worker import TranslationWorker
from tests import stories
from tests.helpers import all_rows
from tests.translation_services import DeepLStandIn, LibreTranslateStandIn, fake

CONFIG = Path(__file__).resolve().parents[1] / "config"
FAST = {"retry_delay": 0, "poll_interval": 0.1, "timeout": 5, "max_attempts": 2}
LONG = " ".join(stories.ENERGY_UK.paragraphs[:3])  # one paragraph of ~500 characters
TEXT = "\n".join([stories.ENERGY_UK.paragraphs[0], LONG, stories.ENERGY_UK.paragraphs[3]])
TITLE = stories.ENERGY_UK.title
UPPER = "import sys; sys.stdout.write(sys.stdin.read().upper())"


def make_source(name: str = "rbc-ukr", language: str = "uk") -> Source:
    return Source(name=name, title=name.upper(), kind="feed", url="http://127.0.0.1:9/rss.xml",
                  language=language, allowed_domains=["127.0.0.1"], allow_private_addresses=True)


def store(db_url: str, source: Source, path: str = "/a.html", text: str = TEXT,
          title: str = TITLE, fetched_at: datetime | None = None) -> int:
    """Store (or revise) an article through the real ingestion path."""
    db = Database(db_url)
    url, now = f"http://127.0.0.1:9{path}", fetched_at or datetime.now(timezone.utc)
    fetch = FetchRecord(url=url, final_url=url, status=200, fetched_at=now, size=1,
                        sha256="0" * 64, kind="page")
    draft = ArticleDraft(url=url, text=text, title=title)
    stored = Ingestor(db, screenshots=False).store_article(
        Arrival(source, CrawlLedger(db).register(source), [], None, fetch, draft))
    db.dispose()
    return stored.id


def settings(tmp_path, db_url: str, **translation) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url,
                    translation={**FAST, "targets": ["de"], **translation})


def run_once(config: Settings) -> tuple[Counter, TranslationWorker]:
    worker = TranslationWorker(config)
    outcomes = worker.run(threading.Event(), once=True)
    worker.db.dispose()
    return outcomes, worker


def rows(db_url: str) -> list[Translation]:
    return all_rows(db_url, Translation)


def expected(text: str, target: str, max_chars: int = 10_000) -> str:
    return "\n".join(" ".join(fake(p, target) for p in pieces(line, max_chars))
                     for line in text.split("\n"))


def test_long_paragraphs_are_cut_at_sentences_and_requests_kept_within_limits():
    cut = pieces(LONG, 220)
    assert len(cut) > 1 and all(len(p) <= 220 for p in cut) and " ".join(cut) == LONG
    assert all(p.endswith(".") for p in cut)  # at sentence ends, not mid-sentence
    assert pieces("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]
    groups = batches(["a" * 60, "b" * 60, "c" * 30, "d", "e"], Limits(max_chars=100, max_texts=2))
    assert groups == [[0], [1, 2], [3, 4]]


def test_libretranslate_translates_every_paragraph_in_order(tmp_path, db_url):
    with LibreTranslateStandIn(api_keys={"lt-key"}, char_limit=300) as service:
        article = store(db_url, make_source())
        config = settings(tmp_path, db_url, url=service.url, api_key="lt-key",
                          targets=["de", "en"])
        outcomes, _ = run_once(config)
    assert outcomes == Counter(done=2)
    done = {r.language: r for r in rows(db_url)}
    de = done["de"]
    assert (de.status, de.attempts, de.error, de.article_id, de.revision) == ("done", 1, None,
                                                                                article, 1)
    assert de.title == fake(TITLE, "de")
    assert de.text == expected(TEXT, "de", 300)  # the server's charLimit narrowed requests
    assert (de.engine, de.engine_name, de.engine_version) == ("libretranslate",
                                                              "LibreTranslate", "1.6.4")
    assert de.source_language == "uk" and de.characters >= len(TEXT) - 4
    assert done["en"].text == expected(TEXT, "en", 300)
    posts = service.posts()
    assert len(posts) > 2 and all(p["path"] == "/translate" for p in posts)
    for post in posts:
        body = post["body"]
        assert isinstance(body["q"], list) and body["format"] == "text"
        assert body["api_key"] == "lt-key" and body["source"] == "uk"
        assert sum(map(len, body["q"])) <= 300


def test_deepl_translates_with_the_key_in_the_header_and_records_the_model(tmp_path, sqlite_url):
    key = "0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7:fx"
    with DeepLStandIn(key) as service:
        store(sqlite_url, make_source())
        config = settings(tmp_path, sqlite_url, engine="deepl", url=service.url, api_key=key,
                          targets=["en", "de"], model_type="prefer_quality_optimized")
        outcomes, _ = run_once(config)
    assert outcomes == Counter(done=2)
    en = next(r for r in rows(sqlite_url) if r.language == "en")
    assert en.title == fake(TITLE, "en-gb") and en.text == expected(TEXT, "en-gb")
    assert (en.engine, en.engine_name, en.engine_version) == ("deepl", "DeepL",
                                                              "quality_optimized")
    for post in service.posts():
        assert post["path"] == "/v2/translate"
        assert post["headers"]["Authorization"] == f"DeepL-Auth-Key {key}"
        assert post["body"]["source_lang"] == "UK"
        assert post["body"]["target_lang"] in ("EN-GB", "DE")  # "EN" alone is deprecated
        assert key not in post["path"]  # never in the URL


def test_command_engine_runs_a_real_program(tmp_path, sqlite_url):
    store(sqlite_url, make_source())
    config = settings(tmp_path, sqlite_url, engine="command", name="Upper",
                      command=[sys.executable, "-c", UPPER],
                      version_command=[sys.executable, "--version"])
    outcomes, _ = run_once(config)
    assert outcomes == Counter(done=1)
    [row] = rows(sqlite_url)
    assert row.title == TITLE.upper() and row.text == TEXT.upper()
    assert (row.engine, row.engine_name) == ("command", "Upper")
    assert row.engine_version.startswith("Python 3.")


def test_command_that_joins_lines_is_run_once_per_text(tmp_path, sqlite_url):
    """A program that does not keep one line per text gets the texts one at a time."""
    store(sqlite_url, make_source())
    joiner = "import sys; sys.stdout.write(' / '.join(sys.stdin.read().split('\\n')).upper())"
    outcomes, _ = run_once(settings(tmp_path, sqlite_url, engine="command",
                                    command=[sys.executable, "-c", joiner]))
    assert outcomes == Counter(done=1)
    [row] = rows(sqlite_url)
    assert row.title == TITLE.upper() and row.text == TEXT.upper()  # no " / " joins


def test_a_missing_engine_waits_without_using_attempts(tmp_path, sqlite_url):
    store(sqlite_url, make_source())
    config = settings(tmp_path, sqlite_url, engine="command",
                      command=["/nonexistent/argos-translate", "--from-lang", "{source}"])
    outcomes, worker = run_once(config)
    assert outcomes == Counter(waiting=1)
    [row] = rows(sqlite_url)
    assert (row.status, row.attempts) == ("pending", 0)
    assert "command not found: /nonexistent/argos-translate" in row.error
    assert worker.waiting_until > datetime.now(timezone.utc)
    with Database(sqlite_url).session() as session:
        line = translation_line(queue.summary(session), datetime.now(timezone.utc))
    assert line.startswith("translations: 1 pending, 0 done, 0 failed; last error")
    assert "command not found: /nonexistent/argos-translate" in line


def test_an_unreachable_service_waits_and_the_job_is_done_when_it_is_back(tmp_path, sqlite_url):
    store(sqlite_url, make_source())
    with LibreTranslateStandIn() as service:
        url = service.url
    outcomes, _ = run_once(settings(tmp_path, sqlite_url, url=url))  # nothing listens now
    assert outcomes == Counter(waiting=1)
    [row] = rows(sqlite_url)
    assert row.attempts == 0 and f"LibreTranslate unreachable at {url}" in row.error
    make_due(sqlite_url)
    with LibreTranslateStandIn() as service:
        outcomes, _ = run_once(settings(tmp_path, sqlite_url, url=service.url))
    assert outcomes == Counter(done=1) and rows(sqlite_url)[0].error is None


def make_due(db_url: str) -> None:
    """Time passes: every waiting job is due now."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(update(Translation).values(next_attempt_at=datetime.now(timezone.utc)))
    engine.dispose()


def test_a_failing_engine_is_retried_then_failed_and_can_be_requeued(tmp_path, db_url):
    store(db_url, make_source())
    with LibreTranslateStandIn() as service:
        service.fail_next(500, {"error": "Cannot translate text: model crashed"}, times=2)
        config = settings(tmp_path, db_url, url=service.url)
        outcomes, _ = run_once(config)
        assert outcomes == Counter(retry=1, failed=1)
        [row] = rows(db_url)
        assert (row.status, row.attempts) == ("failed", 2)
        assert row.error == "LibreTranslate answered HTTP 500: Cannot translate text: model crashed"
        with Database(db_url).session() as session:
            assert queue.requeue_failed(session, datetime.now(timezone.utc)) == 1
        outcomes, _ = run_once(config)
    assert outcomes == Counter(done=1) and rows(db_url)[0].status == "done"


def test_a_refused_language_pair_fails_at_once(tmp_path, sqlite_url):
    store(sqlite_url, make_source())
    with LibreTranslateStandIn() as service:
        outcomes, _ = run_once(settings(tmp_path, sqlite_url, url=service.url, targets=["fr"]))
    assert outcomes == Counter(failed=1)
    [row] = rows(sqlite_url)
    assert row.attempts == 1
    assert row.error == "LibreTranslate answered HTTP 400: fr is not supported"


def test_timeouts_are_recorded_and_retried(tmp_path, sqlite_url):
    store(sqlite_url, make_source())
    with LibreTranslateStandIn() as service:
        service.fail_next(200, {"translatedText": ["late"]}, delay=2, times=2)
        outcomes, _ = run_once(settings(tmp_path, sqlite_url, url=service.url, timeout=0.5))
    assert outcomes == Counter(retry=1, failed=1)
    assert rows(sqlite_url)[0].error == ("LibreTranslate gave no answer within 0.5s "
                                         "(translation.timeout)")


def test_a_command_that_hangs_is_killed(tmp_path, sqlite_url):
    store(sqlite_url, make_source())
    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    outcomes, _ = run_once(settings(tmp_path, sqlite_url, engine="command", command=hang,
                                    name="slow", timeout=0.5))
    assert outcomes == Counter(retry=1, failed=1)
    assert rows(sqlite_url)[0].error == ("slow gave no answer within 0.5s "
                                         "(translation.timeout): killed")


@pytest.mark.parametrize("status,body,said", [
    (429, {"error": "Slowdown: 30 per 1 minute"}, "too many requests"),
    (456, {"message": "Quota exceeded"}, "quota exceeded"),
])
def test_rate_limits_and_quotas_make_the_worker_wait(tmp_path, sqlite_url, status, body, said):
    store(sqlite_url, make_source())
    store(sqlite_url, make_source(), path="/b.html")
    with LibreTranslateStandIn() as service:
        service.fail_next(status, body, Retry_After="120")
        started = datetime.now(timezone.utc)
        outcomes, worker = run_once(settings(tmp_path, sqlite_url, url=service.url))
        assert outcomes == Counter(waiting=1)  # the second job was not even tried
        assert len(service.posts()) == 1
        waiting = [r for r in rows(sqlite_url) if r.error]
        assert len(waiting) == 1 and waiting[0].attempts == 0 and said in waiting[0].error
        assert waiting[0].next_attempt_at >= started + timedelta(seconds=119)
        assert worker.waiting_until >= started + timedelta(seconds=119)
        make_due(sqlite_url)
        outcomes, _ = run_once(settings(tmp_path, sqlite_url, url=service.url))
    assert outcomes == Counter(done=2)


def test_a_new_revision_is_translated_and_the_old_translation_kept(tmp_path, db_url):
    with LibreTranslateStandIn() as service:
        config = settings(tmp_path, db_url, url=service.url)
        article = store(db_url, make_source())
        assert run_once(config)[0] == Counter(done=1)
        revised = TEXT.replace("два мільярди", "три мільярди")
        assert store(db_url, make_source(), text=revised) == article
        assert run_once(config)[0] == Counter(done=1)
        assert run_once(config)[0] == Counter()  # nothing left to do
    old, new = rows(db_url)
    assert (old.revision, new.revision) == (1, 2)
    assert old.text == expected(TEXT, "de") and new.text == expected(revised, "de")
    assert old.content_hash != new.content_hash
    with Database(db_url).session() as session:
        view = get_article(session, article)
        revision_hashes = dict(session.execute(select(ArticleRevision.number,
                                                      ArticleRevision.content_hash)).all())
    assert {old.revision: old.content_hash, new.revision: new.content_hash} == revision_hashes
    assert [(t.revision, t.current) for t in view.translations] == [(1, False), (2, True)]
    exported = article_record(view)["translations"]
    assert [(t["revision"], t["current"], t["text"]) for t in exported] == [
        (1, False, old.text), (2, True, new.text)]


def test_what_is_queued(tmp_path, sqlite_url):
    """Only configured sources, not into their own language, nothing older than max_age;
    with max_age 0 the articles stored before translation was switched on are covered."""
    old = datetime.now(timezone.utc) - timedelta(days=3)
    store(sqlite_url, make_source(), path="/old.html", fetched_at=old)
    store(sqlite_url, make_source(), path="/new.html")
    store(sqlite_url, make_source("rbc-rus", "ru"), path="/ru.html")
    store(sqlite_url, make_source("kyiv", "en"), path="/en.html")
    now = datetime.now(timezone.utc)
    with Database(sqlite_url).session() as session:
        assert queue.enqueue_missing(session, ["uk", "de"], ["rbc-ukr", "rbc-rus"],
                                     now - timedelta(days=2), now) == 3
    assert sorted((r.source_language, r.language) for r in rows(sqlite_url)) == [
        ("ru", "de"), ("ru", "uk"), ("uk", "de")]
    with Database(sqlite_url).session() as session:
        assert queue.enqueue_missing(session, ["uk", "de"], None, None, now) == 3  # old + en
        assert queue.enqueue_missing(session, ["uk", "de"], None, None, now) == 0


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_workers_never_claim_the_same_job(tmp_path, db_url):
    for n in range(3):
        store(db_url, make_source(), path=f"/{n}.html")
    db = Database(db_url)
    now = datetime.now(timezone.utc)
    with db.session() as session:
        assert queue.enqueue_missing(session, ["de"], None, None, now) == 3
    first = db.session()
    with first as one:
        mine = queue.claim(one, 2, now, timedelta(minutes=5))  # held, not yet committed
        with db.session() as two:
            theirs = queue.claim(two, 2, now, timedelta(minutes=5))
    db.dispose()
    assert len(mine) == 2 and len(theirs) == 1
    assert not {j.id for j in mine} & {j.id for j in theirs}


def test_the_secret_key_never_leaves(tmp_path, sqlite_workspace, monkeypatch):
    key = "f63c02c5-f056-4c2a-9d5e-5a1b2c3d4e5f:fx"
    ws = sqlite_workspace
    with DeepLStandIn(key) as service:
        ws.settings(log={"level": "DEBUG"},
                    translation={**FAST, "engine": "deepl", "url": service.url, "targets": ["de"]})
        ws.source("rbc-ukr", "http://127.0.0.1:9/rss.xml")
        (ws.config / "citation.yaml").write_text((CONFIG / "citation.yaml").read_text("utf-8"))
        monkeypatch.setenv("AGGREGATOR_TRANSLATION__API_KEY", key)
        ws.run("db", "upgrade")
        article = store(ws.db_url, make_source())
        # An error answer that echoes the key: it must be masked wherever the reason goes.
        service.fail_next(456, {"message": f"Quota exceeded for {key}"})
        waited = ws.run("translations", "run", "--once")
        status_waiting = ws.run("status")
        make_due(ws.db_url)
        done = ws.run("translations", "run", "--once")
        outputs = [waited, status_waiting, done, ws.run("status"), ws.run("translations", "list"),
                   ws.run("export"), ws.run("articles", "show", str(article)),
                   ws.run("articles", "show", str(article), "--translation", "de")]
    assert "1 waiting for the engine" in waited.stdout and "1 done" in done.stdout
    assert "Quota exceeded for ***" in waited.stderr
    assert "translations: 1 pending, 0 done, 0 failed; last error" in status_waiting.stdout
    assert ("DeepL answered HTTP 456: Quota exceeded for *** (quota exceeded"
            in status_waiting.stdout)
    assert "translations: 0 pending, 1 done, 0 failed" in outputs[3].stdout
    assert any(p["headers"]["Authorization"].endswith(key) for p in service.posts())
    for result in outputs:
        assert key not in result.stdout and key not in result.stderr
    engine = create_engine(ws.db_url)
    with engine.connect() as conn:
        stored = " ".join(str(tuple(r)) for r in conn.execute(select(Translation)))
    engine.dispose()
    assert key not in stored and "Quota exceeded for ***" not in stored  # a success clears it
    assert outputs[-1].stdout.startswith("Dies ist eine maschinelle Übersetzung (DeepL)")
    assert "[de] " in outputs[-1].stdout


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_daemon_translates_and_ingestion_never_waits_for_the_engine(site, workspace):
    """With the engine down, crawls store every article; when it answers, the daemon's worker
    translates them; SIGTERM stops the worker with the daemon."""
    from tests.helpers import Daemon, publish

    with LibreTranslateStandIn() as service:
        service.fail_next(503, {"error": "warming up"}, times=1)
        service.delay = 0.3  # a slow engine, too
        workspace.settings(http_port=0, reload_poll=0, first_run_spread=0, screenshots={
            "enabled": False}, translation={**FAST, "url": service.url, "targets": ["de"],
                                            "poll_interval": 0.3})
        workspace.source("busy", publish(site, "/busy", ["b1", "b2", "b3"]),
                         schedule={"every": "1h"})
        daemon = Daemon(workspace)
        try:
            daemon.wait_for(lambda: len(rows(workspace.db_url)) == 3 and all(
                r.status == "done" for r in rows(workspace.db_url)), what="translations")
            assert daemon.stop() == 0
        finally:
            daemon.close()
    crawls = [c for c in daemon.crawls("busy") if c.outcome == "ok"]
    assert crawls and crawls[0].new == 3
    first_translated = min(r.translated_at for r in rows(workspace.db_url))
    assert crawls[0].finished_at < first_translated  # stored before anything was translated
    assert "translation engine unavailable" in daemon.output()
    assert all(r.text.startswith("[de] ") for r in rows(workspace.db_url))
