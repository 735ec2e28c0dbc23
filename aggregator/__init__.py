"""The aggregator: collects Ukrainian news with provenance."""

__version__ = "0.1.0"
