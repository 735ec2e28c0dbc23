"""The operator endpoint on loopback: `/healthz` (JSON, 200 or 503) and `/metrics`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from twisted.internet import threads
from twisted.web import resource, server

from aggregator.metrics import exposition

log = logging.getLogger(__name__)


class Health(resource.Resource):
    """200 when the scheduler runs, the database answers and writes succeed; 503 with the
    reason otherwise (an outage names since when and how many articles wait)."""

    isLeaf = True  # noqa: N815 - Twisted's resource API

    def __init__(self, scheduler_running: Callable[[], bool], db_ping: Callable[[], bool],
                 outage: Callable[[], dict | None] = lambda: None,
                 node: Callable[[], dict | None] = lambda: None):
        super().__init__()
        self.scheduler_running = scheduler_running
        self.db_ping = db_ping
        self.outage = outage
        self.node = node

    def render_GET(self, request):  # noqa: N802 - twisted.web's naming
        deferred = threads.deferToThread(self.db_ping)  # a dead database must not block the reactor

        def answer(db_ok: bool) -> None:
            problems = []
            if not self.scheduler_running():
                problems.append("scheduler not running")
            if not db_ok:
                problems.append("database not answering")
            outage = self.outage()
            if outage:
                problems.append(f"database writes failing for {outage['seconds']}s, "
                                f"{outage['writes_waiting']} waiting")
            body = {"status": "ok" if not problems else "unhealthy", "problems": problems,
                    "scheduler": self.scheduler_running(), "database": db_ok,
                    "database_outage": outage, "node": self.node()}
            request.setResponseCode(503 if problems else 200)
            request.setHeader(b"Content-Type", b"application/json")
            request.write(json.dumps(body).encode())
            request.finish()

        deferred.addCallback(answer)
        return server.NOT_DONE_YET


class Metrics(resource.Resource):
    isLeaf = True  # noqa: N815 - Twisted's resource API

    def __init__(self, node: str | None = None):
        super().__init__()
        self.node_name = node

    def render_GET(self, request):  # noqa: N802
        body, content_type = exposition(self.node_name)
        request.setHeader(b"Content-Type", content_type.encode())
        return body


def listen(host: str, port: int, scheduler_running: Callable[[], bool],
           db_ping: Callable[[], bool], outage: Callable[[], dict | None] = lambda: None,
           node: Callable[[], dict | None] = lambda: None, label: str | None = None):
    """Start serving; returns the listening port (call `.stopListening()` to close).
    `label`: the node name every metric carries (one of several nodes)."""
    from twisted.internet import reactor

    root = resource.Resource()
    root.putChild(b"healthz", Health(scheduler_running, db_ping, outage, node))
    root.putChild(b"metrics", Metrics(label))
    site = server.Site(root)
    site.noisy = False
    listening = reactor.listenTCP(port, site, interface=host)
    log.info("health and metrics on http://%s:%d/", host, listening.getHost().port)
    return listening
