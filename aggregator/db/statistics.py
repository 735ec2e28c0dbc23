"""The planner's statistics on PostgreSQL, kept fresh by the writer itself.

The store path reads articles by canonical key, content hash, story and id, and links by
article. PostgreSQL's planner chooses its plans from statistics that only ANALYZE gathers;
for a table it never analysed it guesses, and its guesses for these `IN (...)` look-ups are
sequential scans. With autovacuum off on the server, or before autovacuum's first round on a
new database, every batch then reads every stored article, and storing slows as the archive
grows (a bench ingest read 144 article rows for each article it stored, and four of the store
path's look-ups took 13 ms a batch at 4,000 articles instead of 1.6).

So the writer analyses a table once as many of its rows changed since its last analysis as
would start autovacuum's own (`autovacuum_analyze_threshold` + `autovacuum_analyze_scale_factor`
x rows), whether or not autovacuum is on: where autovacuum got there first, its counter is
reset and nothing is done twice. SQLite's planner needs no statistics for these look-ups.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

CHECK_EVERY = 10.0  # seconds between two looks at the counters (one cheap query each)


class TableActivity(NamedTuple):
    name: str
    rows: float  # live rows, as the server counts them
    changed: int  # rows inserted, updated or deleted since the table was last analysed


class Activity(NamedTuple):
    """The server's counters and its autoanalyze rule, read in one query."""

    tables: list[TableActivity]
    threshold: int
    scale: float
    autovacuum: bool


_ACTIVITY = text(
    "SELECT relname, n_live_tup, n_mod_since_analyze, "
    "current_setting('autovacuum_analyze_threshold')::int AS threshold, "
    "current_setting('autovacuum_analyze_scale_factor')::float8 AS scale, "
    "current_setting('autovacuum')::bool AS autovacuum "
    "FROM pg_stat_user_tables WHERE schemaname = current_schema() ORDER BY relname")


def activity(session: Session) -> Activity:
    rows = session.execute(_ACTIVITY).all()
    if not rows:
        return Activity([], 0, 0.0, True)
    first = rows[0]
    return Activity([TableActivity(r.relname, float(r.n_live_tup), int(r.n_mod_since_analyze))
                     for r in rows], first.threshold, first.scale, first.autovacuum)


def stale(found: Activity) -> list[str]:
    """Tables past autovacuum's analyze threshold."""
    return [t.name for t in found.tables if t.changed > found.threshold + found.scale * t.rows]


def analyze(session: Session, tables: list[str]) -> None:
    """ANALYZE the tables, skipping any another session is analysing or vacuuming now
    (another node, or autovacuum) instead of waiting for it."""
    if tables:
        quoted = ", ".join('"' + name.replace('"', '""') + '"' for name in tables)
        session.execute(text(f"ANALYZE (SKIP_LOCKED) {quoted}"))
