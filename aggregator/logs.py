"""Logging set-up: one line per event with source and URL; text on a terminal, JSON for journald."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from aggregator.db.engine import redact
from aggregator.settings import LogSettings
from aggregator.terminal import block, one_line

_CONTEXT = ("source", "url")
_LIBRARIES = ("scrapy", "twisted", "apscheduler", "trafilatura", "htmldate", "courlan",
              "py.warnings", "alembic", "asyncio", "filelock")


def _context(record: logging.LogRecord) -> dict[str, str]:
    return {k: one_line(getattr(record, k)) for k in _CONTEXT if hasattr(record, k)}


class TextFormatter(logging.Formatter):
    """One line per event (a traceback follows on its own lines); whatever a message quotes
    from the network is shown without controls (aggregator/terminal.py)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        context = " ".join(f"{k}={v}" for k, v in _context(record).items())
        line = f"{when} {record.levelname:<7} {record.name}: {one_line(record.getMessage())}"
        if context:
            line += f" [{context}]"
        if record.exc_info:
            line += "\n" + block(self.formatException(record.exc_info))
        return redact(line)  # no password (database, proxy) in any message or traceback


class JsonFormatter(logging.Formatter):
    """One JSON object per event, its strings cleaned like the text log's (JSON escapes C0
    controls but not DEL, C1 or bidi overrides, which a terminal reading the journal obeys)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": one_line(record.getMessage()),
            **_context(record),
        }
        if record.exc_info:
            data["exception"] = block(self.formatException(record.exc_info))
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
