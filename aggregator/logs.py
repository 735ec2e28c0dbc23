"""Logging set-up: one line per event with source and URL; text on a terminal, JSON for journald."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from aggregator.db.engine import redact
from aggregator.settings import LogSettings

_CONTEXT = ("source", "url")
_LIBRARIES = ("scrapy", "twisted", "apscheduler", "trafilatura", "htmldate", "courlan",
              "py.warnings", "alembic", "asyncio", "filelock")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        context = " ".join(f"{k}={getattr(record, k)}" for k in _CONTEXT if hasattr(record, k))
        line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if context:
            line += f" [{context}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)  # no password (database, proxy) in any message or traceback


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
        return redact(json.dumps(data, ensure_ascii=False, default=str))


def configure(settings: LogSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    if settings.level != "DEBUG":
        handler.addFilter(_quiet_libraries)
    logging.captureWarnings(True)


def _quiet_libraries(record: logging.LogRecord) -> bool:
    """Libraries speak at WARNING and above, in one line, unless we debug. A handler filter,
    because Scrapy re-configures its loggers' levels whenever a crawler process starts; our own
    spider logs each failure with its source, so Scrapy's tracebacks add only noise."""
    if not record.name.startswith(_LIBRARIES):
        return True
    if record.levelno < logging.WARNING:
        return False
    if record.name.startswith("scrapy") and record.exc_info:
        record.msg = f"{record.getMessage()} ({record.exc_info[1]!r})"
        record.args = None
        record.exc_info = record.exc_text = None
    return True
