"""Several daemons on one PostgreSQL, as real processes against loopback sites on six hosts
(127.0.0.1-6): work divided by host leases, a node joining, a node killed mid-crawl, and
near-duplicates arriving on several nodes at once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, func, select

from aggregator.db.models import Article, Crawl, FeedEntry, HostLease, Source
from tests.helpers import Daemon, descendants, free_port, get, still_running
from tests.httpsite import Site
from tests.newssite import Story, article_page, rss

POSTGRES = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

HOSTS = [f"127.0.0.{i}" for i in range(1, 7)]
PER_HOST = 5  # sources per host: 30 in all
WORDS = ("місто рада уряд закон війна фронт енергія світло газ ціна податок бюджет школа "
         "лікарня міст дорога поїзд вокзал порт зерно експорт банк гривня курс суд прокурор "
         "депутат вибори область громада село річка дніпро море погода зима весна літо осінь "
         "вчитель лікар інженер солдат волонтер допомога ремонт будинок квартира тепло вода "
         "мережа зв'язок інтернет новини видання редакція читач заява рішення план проєкт").split()


def text(seed: str, paragraphs: int = 5) -> list[str]:
    """Paragraphs of words drawn by `seed`: different seeds share almost no 4-word shingles."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "."
            for _ in range(paragraphs)]


def story(slug: str, paragraphs: list[str]) -> Story:
    return Story(slug=slug, title=f"Новина {slug}", paragraphs=paragraphs,
                 published=datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc))


class Sites:
    """Six hosts, five sources each; every source's feed lists its articles (slow pages)."""

    def __init__(self):
        self.sites = [Site(host).__enter__() for host in HOSTS]
        self.items: dict[str, list[tuple[Story, str]]] = {}

    def name(self, h: int, s: int) -> str:
        return f"h{h}s{s}"

    def publish(self, h: int, s: int, slugs: list[str], near: bool = False) -> None:
        site, name = self.sites[h], self.name(h, s)
        for slug in slugs:
            paragraphs = text(slug)
            if near:  # one story told by every host: a lead of its own, the rest shared
                paragraphs = [f"{HOSTS[h]} повідомляє: {' '.join(text(name, 1))}",
                              *text("shared-story")]
            path = f"/{name}/{slug}.html"
            url = site.add(path, article_page(story(slug, paragraphs), site.url(path)),
                           delay=0.3)
            self.items.setdefault(name, []).append((story(slug, paragraphs), url))
        site.add(f"/{name}/rss.xml", rss(self.items[name]))

    def feed(self, h: int, s: int) -> str:
        return self.sites[h].url(f"/{self.name(h, s)}/rss.xml")

    def close(self) -> None:
        for site in self.sites:
            site.__exit__(None, None, None)


@pytest.fixture
def sites():
    running = Sites()
    yield running
    running.close()


@POSTGRES
def test_three_nodes_share_hosts_take_over_and_store_everything_once(sites, workspace,
                                                                   fault_report):
    workspace.settings(per_host_concurrency=2, first_run_spread=0, reload_poll=0,
                       max_concurrent_crawls=4, retries=0, screenshots={"enabled": False},
                       node={"lease_ttl": 4, "heartbeat": 1})
    for h in range(len(HOSTS)):
        for s in range(PER_HOST):
            sites.publish(h, s, [f"h{h}s{s}a{i}" for i in range(2)])
            workspace.source(sites.name(h, s), sites.feed(h, s), allowed_domains=[HOSTS[h]],
                             schedule={"every": "3s", "min": "3s", "max": "3s"})
    engine = create_engine(workspace.db_url)

    def scalar(query):
        with engine.connect() as conn:
            return conn.scalar(query)

    def held(node: str) -> set[str]:
        with engine.connect() as conn:
            return set(conn.scalars(select(HostLease.host).where(
                HostLease.node == node, HostLease.expires_at > func.now())))

    stored = select(func.count()).select_from(Article)
    ports = {n: free_port() for n in ("n1", "n2", "n3")}

    def start(name: str) -> Daemon:
        return Daemon(workspace, log_name=name, AGGREGATOR_NODE__NAME=name,
                      AGGREGATOR_HTTP_PORT=str(ports[name]))

    nodes = {"n1": start("n1"), "n2": start("n2")}
    try:
        first = nodes["n1"]
        first.wait_for(lambda: len(held("n1") | held("n2")) == 6, what="every host leased")
        first.wait_for(lambda: scalar(stored) >= 10, what="first articles stored")

        # A node joining takes its fair share (hosts are handed back between crawls).
        nodes["n3"] = start("n3")
        first.wait_for(lambda: len(held("n3")) == 2, timeout=60, what="n3's fair share")
        first.wait_for(lambda: scalar(select(func.count()).select_from(Crawl)
                                      .where(Crawl.node == "n3", Crawl.finished_at.is_not(None))),
                       what="a crawl by the joined node")
        listed = workspace.run("nodes").stdout
        assert all(f"{n} " in listed for n in nodes) and "live" in listed, listed
        holders = {line.split()[0]: line for line in workspace.run("status").stdout.splitlines()}
        assert "(till " in holders["h0s0"] and any(n in holders["h0s0"] for n in nodes)
        status, body = get(f"http://127.0.0.1:{ports['n3']}/healthz")
        assert status == 200 and json.loads(body)["node"]["name"] == "n3"
        status, body = get(f"http://127.0.0.1:{ports['n3']}/metrics")
        assert 'aggregator_hosts_leased{node="n3"}' in body

        # A second wave, with one story told on all six hosts at once; kill -9 a node in it.
        for h in range(len(HOSTS)):
            for s in range(PER_HOST):
                sites.publish(h, s, [f"h{h}s{s}b{i}" for i in range(3)])
            sites.publish(h, 0, [f"h{h}near"], near=True)
        victim = nodes["n2"]
        running = (select(func.count()).select_from(Crawl)
                   .where(Crawl.node == "n2", Crawl.finished_at.is_(None)))
        victim_hosts = first.wait_for(
            lambda: held("n2") if scalar(running) and scalar(stored) > 70 else None,
            what="n2 crawling the second wave")
        below = descendants(victim.proc.pid)
        at_kill = scalar(stored)
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        killed_at = datetime.now(timezone.utc)
        deadline = time.monotonic() + 15
        while still_running(below) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert below and not still_running(below), f"processes of the killed node: {below}"

        expected = 6 * PER_HOST * 5 + 6
        first.wait_for(lambda: not (victim_hosts - held("n1") - held("n3")), timeout=60,
                       what="n2's hosts taken over")
        first.wait_for(lambda: scalar(stored) == expected, timeout=90,
                       what="every article stored")
        for name in ("n1", "n3"):
            assert nodes[name].stop() == 0, nodes[name].output()
        assert not held("n1") and not held("n3"), "a graceful stop hands its leases back"
    finally:
        for daemon in nodes.values():
            daemon.close()

    with engine.connect() as conn:
        urls = list(conn.scalars(select(Article.url)))
        near_stories = set(conn.scalars(select(Article.story_id)
                                        .where(Article.url.like("%near.html"))))
        pending = list(conn.scalars(select(FeedEntry.link)
                                    .where(FeedEntry.status == "pending")))
        crawls = conn.execute(select(Source.name, Crawl.node, Crawl.started_at,
                                     Crawl.finished_at)
                              .join(Source, Source.id == Crawl.source_id)).all()
    engine.dispose()
    assert len(urls) == len(set(urls)) == expected, "every article stored exactly once"
    assert len(near_stories) == 1, f"one story told on six hosts: {near_stories}"
    served = {site.url(h.path) for site in sites.sites for h in site.hits
              if h.path.endswith(".html") and h.status == 200}
    assert served <= set(urls) | set(pending), "a fetched page is stored or still pending"
    assert set(urls) <= served
    fault_report["3 nodes: pages fetched / articles stored / entries pending"] = (
        f"{len(served)} / {len(urls)} / {len(pending)}")
    fault_report["3 nodes: articles stored when n2 was killed"] = f"{at_kill} of {expected}"
    fault_report["3 nodes: most requests in flight per host"] = max(
        site.max_in_flight for site in sites.sites)
    for site in sites.sites:
        assert site.max_in_flight <= 2, f"{site.host}: {site.max_in_flight} requests at once"
    by_source: dict[str, list] = {}
    for name, node, started, finished in crawls:
        by_source.setdefault(name, []).append((started, finished or killed_at, node))
    for name, runs in by_source.items():
        runs.sort()
        for (_, end, node), (start, _, other) in zip(runs, runs[1:]):
            assert node == other or start >= end, f"{name}: {node} and {other} overlap"


def _near_writer(db_url: str, name: str, barrier, pairs: int) -> None:
    """Store one copy of each story, each at the same moment as the other writer's copy."""
    from aggregator.db.engine import Database
    from aggregator.ingest import Arrival, Ingestor
    from aggregator.ledger import CrawlLedger
    from aggregator.records import ArticleDraft, FetchRecord
    from aggregator.sources import Source as SourceConfig

    db = Database(db_url)
    ingestor = Ingestor(db, screenshots=False)
    source = SourceConfig(name=name, title=name, kind="feed", url=f"http://{name}.test/rss",
                          language="uk", allowed_domains=[f"{name}.test"],
                          allow_private_addresses=True)
    source_id = CrawlLedger(db).register(source)
    for k in range(pairs):
        url = f"http://{name}.test/story-{k}.html"
        body = "\n".join([f"{name} повідомляє: {' '.join(text(name + str(k), 1))}",
                          *text(f"story-{k}")])
        fetch = FetchRecord(url=url, final_url=url, status=200,
                            fetched_at=datetime.now(timezone.utc), size=1, sha256="0" * 64,
                            kind="page")
        draft = ArticleDraft(url=url, text=body, title=f"story {k}", language="uk")
        barrier.wait()
        ingestor.store_articles([Arrival(source, source_id, [], None, fetch, draft)])
    db.dispose()


@POSTGRES
def test_near_duplicates_stored_on_two_nodes_at_once_end_in_one_story(db_url):
    import multiprocessing

    pairs = 15
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    writers = [spawn.Process(target=_near_writer, args=(db_url, name, barrier, pairs))
               for name in ("east", "west")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(Article.url, Article.story_id)).all()
    engine.dispose()
    stories: dict[str, set[int]] = {}
    for url, story_id in rows:
        stories.setdefault(url.rsplit("/", 1)[1], set()).add(story_id)
    assert len(rows) == 2 * pairs
    split = {k: v for k, v in stories.items() if len(v) > 1}
    assert not split, f"copies placed at the same moment on two nodes in two stories: {split}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_second_daemon_on_one_sqlite_file_refuses_to_start(workspace):
    workspace.settings(http_port=0, reload_poll=0, screenshots={"enabled": False})
    first = Daemon(workspace)
    try:
        first.wait_for(lambda: "started with" in first.output(), what="the first daemon")
        second = workspace.run("run", check=False, timeout=60)
        assert second.returncode == 2, second.stderr
        assert "SQLite is single-node" in second.stderr
        assert first.proc.poll() is None
        assert first.stop() == 0
    finally:
        first.close()


@POSTGRES
def test_a_crawl_by_hand_waits_for_the_host_and_never_doubles_its_budget(sites, workspace):
    workspace.settings(per_host_concurrency=1, first_run_spread=0, reload_poll=0, retries=0,
                       http_port=0, screenshots={"enabled": False},
                       node={"lease_ttl": 4, "heartbeat": 1})
    for s in range(3):
        sites.publish(0, s, [f"h0s{s}a{i}" for i in range(4)])
        workspace.source(sites.name(0, s), sites.feed(0, s), allowed_domains=[HOSTS[0]],
                         schedule={"every": "2s", "min": "2s", "max": "2s"})
    daemon = Daemon(workspace, log_name="n1", AGGREGATOR_NODE__NAME="n1")
    try:
        daemon.wait_for(lambda: daemon.crawls("h0s0"), what="the daemon crawling host 0")
        sites.publish(0, 1, [f"h0s1b{i}" for i in range(4)])  # fresh pages for the manual run
        done = workspace.run("crawl", "h0s1", timeout=120)
        assert "h0s1" in done.stdout
        daemon.wait_for(lambda: [c for c in daemon.crawls("h0s2") if c.node == "n1"
                                 and c.started_at > daemon.crawls("h0s1")[-1].finished_at],
                        what="the daemon taking the host back")
        assert daemon.stop() == 0
    finally:
        daemon.close()
    assert sites.sites[0].max_in_flight <= 1
    runs = sorted((c.started_at, c.finished_at, c.node) for name in ("h0s0", "h0s1", "h0s2")
                  for c in daemon.crawls(name))
    manual = [r for r in runs if r[2] != "n1"]
    assert manual and all(r[2].endswith("-crawl") for r in manual)
    for start, end, _ in manual:  # no daemon crawl of the host while the manual one ran
        assert not [r for r in runs if r[2] == "n1" and r[0] < end and r[1] > start]


@POSTGRES
def test_a_second_process_with_a_running_node_s_name_is_refused(workspace):
    workspace.settings(http_port=0, reload_poll=0, screenshots={"enabled": False})
    first = Daemon(workspace, log_name="n1", AGGREGATOR_NODE__NAME="n1")
    try:
        first.wait_for(lambda: "started with" in first.output(), what="node n1")
        env = {"AGGREGATOR_NODE__NAME": "n1"}
        second = subprocess.run(
            [sys.executable, "-m", "aggregator", "--config", str(workspace.config), "run"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "AGGREGATOR_DATABASE_URL": workspace.db_url, **env})
        assert second.returncode == 2, second.stderr
        assert "a node named 'n1' is already running" in second.stderr
        assert first.stop() == 0
    finally:
        first.close()
