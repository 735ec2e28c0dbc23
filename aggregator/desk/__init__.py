"""The desk: `aggregator web`, a read-only ASGI app over the database (API, feeds, pages)."""
