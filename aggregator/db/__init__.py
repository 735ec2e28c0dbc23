"""Storage: models, engine, the write path and read queries (the only SQLAlchemy users)."""
