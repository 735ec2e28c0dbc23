"""Secrets never reach logs or `status`; world-writable config files are refused."""

from __future__ import annotations

import logging
import os

import pytest

from aggregator.logs import JsonFormatter, TextFormatter

pytestmark = pytest.mark.faults
on_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SECRET = "s3cret-pw"


@on_sqlite
def test_world_writable_settings_and_source_files_are_refused(workspace):
    source = workspace.source("open", "http://127.0.0.1:9/rss.xml")
    os.chmod(source, 0o666)
    checked = workspace.run("sources", "check", check=False)
    assert checked.returncode == 1 and "world-writable" in checked.stderr
    assert f"chmod o-w {source}" in checked.stderr
    os.chmod(source, 0o644)
    os.chmod(workspace.config / "aggregator.yaml", 0o646)
    refused = workspace.run("status", check=False)
    assert refused.returncode == 2
    assert "aggregator.yaml: refused: the file is world-writable" in refused.stderr


@on_sqlite
def test_database_password_never_printed(workspace):
    """A database that refuses the connection (a closed loopback port) fails loudly, but the
    password in its URL appears nowhere."""
    workspace.db_url = f"postgresql+psycopg://agg:{SECRET}@127.0.0.1:9/aggregator"
    for args in (("status",), ("db", "upgrade"), ("crawl", "--all")):
        done = workspace.run(*args, check=False)
        assert done.returncode != 0
        assert SECRET not in done.stdout + done.stderr, args


def test_log_lines_mask_passwords_in_any_url():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "proxy %s and db %s failed", (
        f"http://user:{SECRET}@127.0.0.1:3128", f"postgresql://agg:{SECRET}@127.0.0.1/db"), None)
    for formatter in (TextFormatter(), JsonFormatter()):
        line = formatter.format(record)
        assert SECRET not in line and "user:***@127.0.0.1:3128" in line
