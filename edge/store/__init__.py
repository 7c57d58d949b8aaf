"""The node's local store: SQLAlchemy engine, schema, journal, projections and migrations."""
from edge.store.store import JournalEntry, Store, make_engine, sqlite_url

__all__ = ["JournalEntry", "Store", "make_engine", "sqlite_url"]
