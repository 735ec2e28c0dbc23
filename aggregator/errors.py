"""The project's exception hierarchy: per-source problems are values, the rest is loud."""


class AggregatorError(Exception):
    """Base of every error the aggregator raises on purpose."""


class ConfigError(AggregatorError):
    """A settings or source file is unusable; the message names file, field and reason."""


class FeedError(AggregatorError):
    """A feed could not be parsed into any entry."""


class SchemaOutOfDate(AggregatorError):
    """The database schema is behind the code; run `aggregator db upgrade`."""


class CaptureError(AggregatorError):
    """A screenshot attempt failed; `permanent` ones (a 404) are not retried."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class BrowserUnavailable(CaptureError):
    """The browser is missing or will not start: every capture waits until it is fixed."""


class TranslationError(AggregatorError):
    """A translation attempt failed; `permanent` ones (a refused language pair) are not retried."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class EngineUnavailable(TranslationError):
    """The engine is missing, unreachable, refuses our key, rate-limits us or is out of quota:
    no job can succeed until that changes, so every job waits (`retry_after` seconds when the
    engine said how long) without using up its attempts."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NodeRefused(AggregatorError):
    """This daemon may not join: the SQLite file has its daemon already, or the node name is
    taken by a running node."""
