"""Helpers shared by test modules (test modules never import each other): the shared corpus,
CLI workspaces, the daemon as a subprocess, and a loopback news site's feeds."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine

from aggregator.db.migrate import upgrade
from aggregator.db.models import Crawl, Source
from tests import stories
from tests.newssite import Story, article_page, rss

# The shared corpus beside the project (../shared); AGGREGATOR_SHARED points elsewhere (worktrees).
SHARED = Path(os.environ.get("AGGREGATOR_SHARED")
              or Path(__file__).resolve().parents[1].parent / "shared")


@dataclass
class Workspace:
    """A temporary --config directory, data directory and database for CLI runs."""

    root: Path
    db_url: str

    @property
    def config(self) -> Path:
        return self.root / "config"

    def settings(self, **values) -> None:
        base = {"data_dir": str(self.root / "data"), "download_delay": 0,
                "autothrottle": False, "extract_workers": 1}
        (self.config / "aggregator.yaml").write_text(yaml.safe_dump({**base, **values}))

    def source(self, name: str, url: str, **values) -> Path:
        data = {"name": name, "title": name.title(), "kind": "feed", "url": url,
                "language": "uk", "schedule": {"every": "10m"},
                "allowed_domains": ["127.0.0.1"], "allow_private_addresses": True, **values}
        path = self.config / "sources" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    def run(self, *args: str, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
        env = {**os.environ, "AGGREGATOR_DATABASE_URL": self.db_url}
        env.pop("AGGREGATOR_CONFIG", None)
        done = subprocess.run(
            [sys.executable, "-m", "aggregator", "--config", str(self.config), *args],
            capture_output=True, text=True, env=env, timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"aggregator {' '.join(args)} exited {done.returncode}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
        return done


def old_schema_articles(empty_db_url: str, revision: str, count: int) -> Engine:
    """A database at an earlier `revision` holding one source, one fetch and `count` articles
    (ids 1..count), written in SQL as that schema took them: for a migration's own test."""
    upgrade(empty_db_url, revision)
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        run = lambda sql, **p: conn.execute(text(sql), {"t": OLD_ROWS_AT, **p})  # noqa: E731
        run("INSERT INTO sources (id, name, title, kind, url, language, enabled, created_at,"
            " updated_at, consecutive_failures) VALUES (1, 's', 's', 'feed', 'u', 'uk', true,"
            " :t, :t, 0)")
        run("INSERT INTO fetches (id, source_id, kind, url, final_url, status, fetched_at,"
            " size, sha256) VALUES (1, 1, 'page', 'u', 'u', 200, :t, 1, 'x')")
        for aid in range(1, count + 1):
            run("INSERT INTO articles (id, source_id, fetch_id, url, canonical_url,"
                " canonical_key, text, content_hash, fetched_at, first_seen_at, last_seen_at,"
                " authors, categories, tags) VALUES (:i, 1, 1, :u, :u, :k, 't', 'h', :t, :t,"
                " :t, '[]', '[]', '[]')", i=aid, u=f"u{aid}", k=f"k{aid}")
    return engine


OLD_ROWS_AT = datetime(2026, 11, 20, 8, 0)  # naive: the raw SQL of old_schema_articles


def all_rows(db_url: str, model) -> list:
    """Every row of a model's table, in id order, through a short-lived engine."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        found = list(conn.execute(select(model).order_by(model.id)))
    engine.dispose()
    return found


PEAK = "PEAK_RSS_KB="


def run_measured(workspace, *args: str,
                 timeout: float = 180) -> tuple[subprocess.CompletedProcess, int]:
    """Run the CLI and return its result and its peak resident memory in KiB."""
    code = ("import atexit, resource, sys\n"
            f"atexit.register(lambda: sys.stderr.write('{PEAK}%d\\n' % "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
            "from aggregator.cli import main\n"
            "sys.argv = ['aggregator'] + sys.argv[1:]\nmain()\n")
    env = {**os.environ, "AGGREGATOR_DATABASE_URL": workspace.db_url}
    done = subprocess.run([sys.executable, "-c", code, "--config", str(workspace.config), *args],
                          capture_output=True, text=True, env=env, timeout=timeout)
    return done, int(re.search(rf"{PEAK}(\d+)", done.stderr).group(1))


def descendants(root: int) -> set[int]:
    """Every live process below `root`, from /proc (zombies count as gone)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if state != "Z":
            children.setdefault(int(parent), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def still_running(pids: set[int]) -> set[int]:
    """Those of `pids` still alive (not gone, not zombies)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daemon:
    def __init__(self, workspace, log_name: str = "daemon", **env_extra: str):
        self.workspace = workspace
        self.log_name = log_name
        self.engine = create_engine(workspace.db_url)
        env = {**os.environ, "AGGREGATOR_DATABASE_URL": workspace.db_url, **env_extra}
        self.log = open(workspace.root / f"{log_name}.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "--config", str(workspace.config), "run"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )

    def wait_for(self, predicate, timeout: float = 40, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"daemon exited early:\n{self.output()}"
            result = predicate()
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.output()}")

    def crawls(self, name: str) -> list:
        with self.engine.connect() as conn:
            return conn.execute(
                select(Crawl).join(Source, Source.id == Crawl.source_id)
                .where(Source.name == name).order_by(Crawl.id)
            ).all()

    def stop(self, timeout: float = 40) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def output(self) -> str:
        if self.log.closed:
            return (self.workspace.root / f"{self.log_name}.log").read_text()
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.engine.dispose()
        self.log.close()


def story(slug: str) -> Story:
    base = stories.BRIDGE
    return Story(slug=slug, title=f"{base.title} ({slug})", published=base.published,
                 paragraphs=[f"{p} Випуск {slug}." for p in base.paragraphs])


def publish(site, prefix: str, slugs: list[str], **page_options) -> str:
    items = []
    for slug in slugs:
        path = f"{prefix}/{slug}.html"
        url = site.add(path, article_page(story(slug), site.url(path)), **page_options)
        items.append((story(slug), url))
    return site.add(f"{prefix}/rss.xml", rss(items))


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


