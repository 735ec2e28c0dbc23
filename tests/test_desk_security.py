"""The desk's guards: loopback unless a token is set, the token itself, a database that
refuses writes from the web process, and the strict Content-Security-Policy."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aggregator.db.engine import Database
from aggregator.desk.security import check_listen, is_loopback
from aggregator.errors import ConfigError
from tests.desk import Web

TOKEN = "desk-token-0123456789"


def test_only_loopback_without_a_token():
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host)
        check_listen(host, None)
    for host in ("0.0.0.0", "::", "192.0.2.10", "desk.example"):
        assert not is_loopback(host)
        with pytest.raises(ConfigError, match="web.token"):
            check_listen(host, None)
        check_listen(host, TOKEN)  # allowed once a token is set


def test_the_command_refuses_a_public_address_without_a_token(sqlite_workspace):
    # Refused before anything is bound: no traffic leaves loopback.
    done = sqlite_workspace.run("web", "--host", "0.0.0.0", check=False)
    assert done.returncode == 2 and "refusing to listen on 0.0.0.0" in done.stderr


def test_token_as_bearer_or_basic_password(sqlite_workspace):
    basic = base64.b64encode(f"desk:{TOKEN}".encode()).decode()
    wrong = base64.b64encode(b"desk:guess").decode()
    with Web(sqlite_workspace, token=TOKEN) as web:
        for path in ("/", "/api/v1/stories", "/api/v1/openapi.json", "/static/desk.css",
                     "/feeds/stories.atom"):
            code, headers, _ = web.get(path)
            assert code == 401 and "Basic" in headers["WWW-Authenticate"], path
        assert web.get("/api/v1/stories", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
        assert web.get("/", {"Authorization": f"Basic {basic}"})[0] == 200
        assert web.get("/", {"Authorization": f"Basic {wrong}"})[0] == 401
        assert web.get("/", {"Authorization": "Bearer desk-token-012345678"})[0] == 401


def test_every_answer_carries_the_policy(sqlite_workspace):
    with Web(sqlite_workspace) as web:
        for path in ("/", "/sources", "/api/v1/stories", "/stories/1", "/static/desk.css"):
            headers = web.get(path)[1]
            assert "script-src 'none'" in headers["Content-Security-Policy"], path
            assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_web_database_refuses_writes(db_url):
    db = Database(db_url, read_only=True)
    with pytest.raises(DBAPIError, match="(?i)read.only|readonly"):
        with db.session() as session:
            session.execute(text("INSERT INTO changes (kind, changed_at) "
                                 "VALUES ('article_stored', CURRENT_TIMESTAMP)"))
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM changes")).scalar() == 0
    db.dispose()
