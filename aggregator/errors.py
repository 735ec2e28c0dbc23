"""The project's exception hierarchy: per-source problems are values, the rest is loud."""


class AggregatorError(Exception):
    """Base of every error the aggregator raises on purpose."""


class ConfigError(AggregatorError):
    """A settings or source file is unusable; the message names file, field and reason."""


class FeedError(AggregatorError):
    """A feed could not be parsed into any entry."""


class SchemaOutOfDate(AggregatorError):
    """The database schema is behind the code; run `aggregator db upgrade`."""
