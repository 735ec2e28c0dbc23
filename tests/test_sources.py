"""Source files: validation, one problem per bad field, the rest still load."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.sources import load_sources, parse_duration

SHIPPED = Path(__file__).resolve().parents[1] / "config" / "sources"

GOOD = """name: rbc-ukr
title: RBC
kind: feed
url: https://www.rbc.ua/static/rss/all.ukr.rss.xml
language: uk
schedule: {every: 5m}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads_with_defaults(tmp_path):
    write(tmp_path, "rbc.yaml", GOOD)
    loaded = load_sources(tmp_path)
    assert not loaded.problems
    (source,) = loaded.sources
    assert source.schedule.every == timedelta(minutes=5)
    assert source.allowed_domains == ("rbc.ua",)
    assert source.enabled and source.screenshots and not source.allow_private_addresses


def test_each_bad_field_is_named_with_file_and_reason_and_others_still_load(tmp_path):
    write(tmp_path, "a-good.yaml", GOOD)
    bad = write(tmp_path, "b-bad.yaml", """name: Bad Name
title: x
kind: carrier-pigeon
url: ftp://example.org/feed
language: ukrainian
schedule: {every: soon}
colour: blue
""")
    loaded = load_sources(tmp_path)
    assert [s.name for s in loaded.sources] == ["rbc-ukr"]
    lines = [str(p) for p in loaded.problems]
    fields = {p.field for p in loaded.problems}
    assert {"name", "kind", "url", "language", "schedule.every", "colour"} <= fields
    assert all(line.startswith(f"{bad}: ") for line in lines)
    assert any("invalid duration 'soon'" in line for line in lines)
    assert any("colour: unknown key" in line for line in lines)


def test_unparseable_yaml_and_duplicate_names_are_problems(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD)
    write(tmp_path, "c.yaml", "name: [unclosed\n")
    write(tmp_path, "d.yaml", "- just\n- a list\n")
    loaded = load_sources(tmp_path)
    assert len(loaded.sources) == 1
    reasons = {p.file.name: p.reason for p in loaded.problems}
    assert "already defined in" in reasons["b.yaml"]
    assert reasons["c.yaml"].startswith("not valid YAML at line")
    assert "mapping" in reasons["d.yaml"]


def test_schedule_needs_exactly_one_of_every_or_cron(tmp_path):
    every = "schedule: {every: 5m}"
    write(tmp_path, "a.yaml", GOOD.replace(every, "schedule: {every: 5m, cron: '* * * * *'}"))
    write(tmp_path, "b.yaml", GOOD.replace("rbc-ukr", "b").replace(every,
                                                                   "schedule: {cron: '*/5 * * *'}"))
    problems = {p.file.name: str(p) for p in load_sources(tmp_path).problems}
    assert "exactly one" in problems["a.yaml"]
    assert "5 fields" in problems["b.yaml"]


@pytest.mark.parametrize("text,expected", [("45s", 45), ("10m", 600), ("1h30m", 5400),
                                           ("2d", 172800), (90, 90)])
def test_durations(text, expected):
    assert parse_duration(text).total_seconds() == expected


def test_shipped_sources_are_valid_and_cover_both_rbc_editions():
    loaded = load_sources(SHIPPED)
    assert not loaded.problems, [str(p) for p in loaded.problems]
    by_name = {s.name: s for s in loaded.sources}
    assert len(by_name) >= 14
    assert by_name["rbc-ukr"].language == "uk" and by_name["rbc-rus"].language == "ru"
    assert by_name["rbc-ukr"].url.endswith("all.ukr.rss.xml")
    assert not any(s.allow_private_addresses for s in loaded.sources)


def test_sources_check_command_exits_nonzero_on_a_bad_file(sqlite_workspace):
    sqlite_workspace.source("fine", "https://example.org/rss")
    write(sqlite_workspace.config / "sources", "broken.yaml", "name: broken\nkind: feed\n")
    done = sqlite_workspace.run("sources", "check", check=False)
    assert done.returncode == 1
    assert "broken.yaml: title: Field required" in done.stderr
    assert "1 sources valid, 1 files invalid" in done.stdout
    listed = sqlite_workspace.run("sources", "list")
    assert "fine" in listed.stdout and "invalid: " in listed.stderr
