"""robots.txt, asked on behalf of the source whose request needs it.

Scrapy's middleware makes its robots.txt requests without the triggering request's meta, so
the URL guard could not tell whose they are (and let them reach private addresses, redirects
included). Here each robots.txt request carries the source's run, and a host's parsed file is
asked for again after `robots_ttl` (a daemon lives for months; Scrapy keeps the first forever).
"""

from __future__ import annotations

import logging
import time

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from aggregator.vocabulary import RequestKind
from spiders.middlewares import KIND

log = logging.getLogger(__name__)


class SourceRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.ttl = crawler.settings["AGGREGATOR_SETTINGS"].robots_ttl
        self._fetched_at: dict[str, float] = {}

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        netloc = url.netloc
        expired = time.monotonic() - self._fetched_at.get(netloc, 0.0) > self.ttl
        if netloc not in self._parsers or (expired and not isinstance(self._parsers[netloc],
                                                                      Deferred)):
            self._parsers[netloc] = Deferred()
            self._fetched_at[netloc] = time.monotonic()
            robots = Request(
                f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                meta={"dont_obey_robotstxt": True, "run": request.meta.get("run"),
                      KIND: RequestKind.ROBOTS},
                callback=NO_CALLBACK,
            )
            try:
                response = await self.crawler.engine.download_async(robots)
                await self._parse_robots(response, netloc, request)
            except Exception as exc:  # noqa: BLE001 - no robots.txt: Scrapy's own fallback
                if not isinstance(exc, IgnoreRequest):
                    log.warning("robots.txt of %s not read: %s", netloc, exc)
                self._robots_error(exc, netloc)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser
