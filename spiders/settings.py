"""Scrapy settings derived from the aggregator's one Settings object (which travels along as
`AGGREGATOR_SETTINGS`, so the spider and pipeline read ours, not copies)."""

from __future__ import annotations

from typing import Any

from aggregator.settings import Settings


def scrapy_settings(settings: Settings) -> dict[str, Any]:
    quiet = "DEBUG" if settings.log.level == "DEBUG" else "WARNING"
    return {
        "BOT_NAME": "aggregator",
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": settings.obey_robots,
        "CONCURRENT_REQUESTS": settings.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.per_host_concurrency,
        "DOWNLOAD_DELAY": settings.download_delay,
        "DOWNLOAD_DELAY_JITTER": 0.5,
        "AUTOTHROTTLE_ENABLED": settings.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(settings.download_delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(settings.per_host_concurrency),
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DOWNLOAD_MAXSIZE": settings.max_body_size,
        "DOWNLOAD_WARNSIZE": max(settings.max_body_size // 2, 1),
        "RETRY_TIMES": settings.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOGSTATS_INTERVAL": 0,
        "LOG_ENABLED": False,  # our own logging is configured once, in aggregator.logs
        "LOG_INSTALL_ROOT_HANDLER": False,
        "LOG_LEVEL": quiet,
        "STATS_DUMP": False,
        "DNS_TIMEOUT": min(settings.download_timeout, 20),
        "DOWNLOADER": "spiders.downloader.Downloader",
        "TWISTED_DNS_RESOLVER": "spiders.resolver.GuardedResolver",
        "DOWNLOADER_MIDDLEWARES": {
            "spiders.middlewares.AddressGuardMiddleware": 50,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "spiders.robots.SourceRobotsTxtMiddleware": 100,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "spiders.lean.MetaRefreshWhenPresent": 580,  # Scrapy's own place
        },
        # Our callbacks yield at most one item and never a request (pages are submitted to
        # the engine directly): Scrapy's 100 concurrent item tasks per response were the
        # reactor's largest cost, and these spider middlewares only look at yielded requests
        # (the referer one stays: the redirect middlewares rely on it).
        "CONCURRENT_ITEMS": 1,
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
        },
        "LOG_FORMATTER": "spiders.lean.QuietLogFormatter",
        "ITEM_PIPELINES": {"spiders.pipelines.StorePipeline": 300},
        # Our components read their settings from here: every default is written once,
        # in aggregator/settings.py.
        "AGGREGATOR_SETTINGS": settings,
    }
