"""Logging set-up: one line per event with source and URL; text on a terminal, JSON for journald."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from aggregator.settings import LogSettings

_CONTEXT = ("source", "url")
_LIBRARIES = ("scrapy", "scrapy.utils.log", "scrapy.crawler", "twisted", "apscheduler", "trafilatura", "htmldate", "py.warnings", "alembic")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        context = " ".join(f"{k}={getattr(record, k)}" for k in _CONTEXT if hasattr(record, k))
        line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if context:
            line += f" [{context}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: getattr(record, k) for k in _CONTEXT if hasattr(record, k)})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure(settings: LogSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    quiet_libraries(settings.level)
    logging.captureWarnings(True)


def quiet_libraries(level: str) -> None:
    """Libraries log at WARNING unless we debug; Scrapy resets this, so it is re-applied."""
    noisy = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in _LIBRARIES:
        logging.getLogger(name).setLevel(noisy)
