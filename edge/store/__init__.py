"""The node's local store: SQLAlchemy engine, schema, journal, projections and migrations."""
from edge.store.store import JournalEntry, Store, WriterBusy, make_engine, sqlite_url

__all__ = ["JournalEntry", "Store", "WriterBusy", "make_engine", "sqlite_url"]
