"""Prometheus metrics: declared once here (the only prometheus-client user), counted by the
stages, served by web.py."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

disable_created_metrics()  # *_created samples double the page and nobody graphs them
REGISTRY = CollectorRegistry()

FETCHES = Counter("aggregator_fetches_total", "HTTP fetches by source, kind and outcome.",
                  ["source", "kind", "outcome"], registry=REGISTRY)
ARTICLES = Counter("aggregator_articles_stored_total", "Articles stored (new) or refreshed.",
                   ["source", "result"], registry=REGISTRY)
DUPLICATES = Counter("aggregator_duplicates_total", "Copies of an already stored article found.",
                     ["source", "kind"], registry=REGISTRY)
EXTRACTION_FAILURES = Counter("aggregator_extraction_failures_total",
                              "Pages without usable main text.", ["source"], registry=REGISTRY)
EXTRACTION_PATHS = Counter("aggregator_extraction_path_total",
                           "Extracted articles by the way their text was found: rule, "
                           "structured, fast or full.", ["source", "path"], registry=REGISTRY)
CRAWL_SECONDS = Histogram("aggregator_crawl_duration_seconds", "Duration of one crawl of a source.",
                          ["source", "outcome"], registry=REGISTRY,
                          buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800))
SCHEDULER_LAG = Histogram("aggregator_scheduler_lag_seconds",
                          "Delay between a crawl's due time and its start.", registry=REGISTRY,
                          buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300))
STAGE_SECONDS = Histogram("aggregator_stage_seconds",
                          "Time one article spends in a stage: fetch, extract, dedup, store.",
                          ["stage"], registry=REGISTRY,
                          buckets=tuple(round(0.0005 * 1.25 ** n, 6) for n in range(47)))
CRAWLS_RUNNING = Gauge("aggregator_crawls_running", "Crawls in progress.", registry=REGISTRY)
LOCK_WAIT = Counter("aggregator_lock_wait_seconds_total",
                    "Seconds spent waiting for cluster locks: placement (advisory locks on an "
                    "article's keys) and lease (heartbeats' lease transactions).", ["lock"],
                    registry=REGISTRY)
HOSTS_LEASED = Gauge("aggregator_hosts_leased", "Hosts whose sources this node crawls.",
                     registry=REGISTRY)
SOURCE_FAILURES = Gauge("aggregator_source_consecutive_failures",
                        "Failed crawls in a row, per source.", ["source"], registry=REGISTRY)


class _Labelled:
    """Every sample of REGISTRY with a `node` label added, so N nodes scraped into one
    Prometheus stay apart even behind one job."""

    def __init__(self, node: str):
        self.node = node

    def collect(self):
        for family in REGISTRY.collect():
            for sample in family.samples:
                sample.labels["node"] = self.node
            yield family


def exposition(node: str | None = None) -> tuple[bytes, str]:
    """The metrics page body and its content type (labelled with the node, when given)."""
    return generate_latest(_Labelled(node) if node else REGISTRY), CONTENT_TYPE_LATEST
