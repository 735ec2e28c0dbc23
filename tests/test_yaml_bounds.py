"""Configuration YAML that would hang or crash a loader is refused quickly with one line."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from aggregator.errors import ConfigError
from aggregator.settings import load_settings
from aggregator.sources import load_source_file
from aggregator.yamlfile import MAX_DEPTH, YamlProblem, loads
from tests.helpers import run_measured

pytestmark = pytest.mark.faults
GOOD = """name: bomb
title: Bomb
kind: feed
url: http://127.0.0.1:9/rss.xml
language: uk
"""


def alias_bomb(key: str = "allowed_domains") -> str:
    """Ten anchors of ten aliases each: 10^10 values once expanded, 1 KB as text."""
    lines = ["a0: &a0 [" + ",".join(["x.ua"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "\n".join([*lines, f"{key}: *a9", ""])


DEEP = "allowed_domains: " + "[" * 50_000 + "]" * 50_000 + "\n"


def bounded(load):
    """Run `load`, returning its result (or exception), seconds taken and peak MB allocated."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = load()
    except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
        outcome = exc
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return outcome, seconds, peak


@pytest.mark.parametrize("body", [alias_bomb(), DEEP], ids=["alias-bomb", "deep-nesting"])
def test_a_source_file_bomb_is_one_problem_within_a_second_and_100_mb(tmp_path, body):
    path = tmp_path / "bomb.yaml"
    path.write_text(GOOD + body)
    (source, problems), seconds, peak = bounded(lambda: load_source_file(path))
    assert source is None and len(problems) == 1
    assert seconds < 1.0 and peak < 100, (seconds, peak)
    line = str(problems[0])
    assert line.startswith(f"{path}: ") and "\n" not in line
    assert ("alias bomb" in line) if "&a" in body else (f"nested deeper than {MAX_DEPTH}" in line)


@pytest.mark.parametrize("body", [alias_bomb("user_agent"), DEEP.replace("allowed_domains",
                                                                         "user_agent")],
                         ids=["alias-bomb", "deep-nesting"])
def test_a_settings_file_bomb_is_one_config_error(tmp_path, body):
    (tmp_path / "aggregator.yaml").write_text(body)
    error, seconds, peak = bounded(lambda: load_settings(tmp_path))
    assert isinstance(error, ConfigError), error
    assert seconds < 1.0 and peak < 100, (seconds, peak)
    assert str(error).startswith(f"{tmp_path / 'aggregator.yaml'}: ")
    assert ("alias bomb" if "&a" in body else "nested deeper") in str(error)


@pytest.mark.parametrize("text,field,reason", [
    (alias_bomb(), "a3", "refused: more than 10000 values once its aliases are expanded"),
    ("a: &a [x, *a]\n", "(file)", "refused: an alias refers to the collection that contains it"),
    ("title: [" * 30 + "]" * 30, "title", "nested deeper than 20 levels at line 1"),
    ("extract:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 40)), "extract",
     "nested deeper than 20 levels at line 20"),
    ("schedule: {every: 2026-02-31}\n", "(file)", "not valid YAML at line 1: day is out of range"),
    ("retries: " + "9" * 5000, "(file)", "not valid YAML at line 1: Exceeds the limit"),
    ("name: [unclosed\n", "(file)", "not valid YAML at line 2: expected ',' or ']'"),
])
def test_each_refusal_names_the_key_and_the_reason(text, field, reason):
    with pytest.raises(YamlProblem) as refused:
        loads(text)
    assert refused.value.field == field and refused.value.reason.startswith(reason)


def test_ordinary_yaml_still_loads_with_anchors_and_merge_keys():
    text = ("base: &b {every: 5m}\nschedule:\n  <<: *b\n  min: 1m\n"
            "hosts: &h [a.ua, b.ua]\nalso: *h\n")
    assert loads(text) == {"base": {"every": "5m"}, "schedule": {"every": "5m", "min": "1m"},
                           "hosts": ["a.ua", "b.ua"], "also": ["a.ua", "b.ua"]}
    assert loads("") is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sources_check_prints_one_line_per_bomb_quickly_and_small(workspace):
    good = workspace.source("fine", "http://127.0.0.1:9/rss.xml")
    _, baseline_kb = run_measured(workspace, "sources", "check", timeout=60)
    (workspace.config / "sources" / "bomb.yaml").write_text(GOOD + alias_bomb())
    (workspace.config / "sources" / "deep.yaml").write_text(GOOD.replace("bomb", "deep") + DEEP)
    started = time.monotonic()
    done, peak_kb = run_measured(workspace, "sources", "check", timeout=60)
    seconds = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    problems = [line for line in done.stderr.splitlines() if not line.startswith("PEAK_RSS")]
    assert problems == [
        f"{workspace.config / 'sources' / 'bomb.yaml'}: a3: refused: more than 10000 values "
        "once its aliases are expanded (an alias bomb?)",
        f"{workspace.config / 'sources' / 'deep.yaml'}: allowed_domains: nested deeper than "
        f"{MAX_DEPTH} levels at line 6",
    ]
    assert "1 sources valid, 2 files invalid" in done.stdout and good.exists()
    # Refusing both costs less than 100 MB over the same command with the good file alone;
    # the bomb grew past 1.3 GB within 20 s before.
    assert peak_kb - baseline_kb < 100 * 1024, (peak_kb, baseline_kb)
    assert seconds < 30, seconds
