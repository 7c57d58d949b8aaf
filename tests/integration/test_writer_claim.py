"""One writer per store: a second process (or a second ``Store`` on the same database) is refused while the first
records, and may claim the store as soon as the first has released it. On PostgreSQL the claim is an advisory lock
of the database session, so a release that merely returned the session to the pool kept the store busy until the
process ended (a node restarted in the same process, e.g. by its supervisor, was refused by itself)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.store import Store, WriterBusy, sqlite_url


def _claim_release_claim(url: str) -> None:
    first = Store(url)
    second = Store(url)
    try:
        first.claim_writer()
        with pytest.raises(WriterBusy):
            second.claim_writer()
        first.release_writer()
        second.claim_writer()  # free at once: no lock left behind in a pooled session
        with pytest.raises(WriterBusy):
            first.claim_writer()
        second.release_writer()
        first.claim_writer()  # and back: the same Store can claim again after its own release
    finally:
        first.close()
        second.close()


def test_sqlite_writer_claim_is_exclusive_and_released(tmp_path: Path) -> None:
    _claim_release_claim(sqlite_url(tmp_path))


def test_postgresql_writer_claim_is_exclusive_and_released(postgres_url: str) -> None:
    _claim_release_claim(postgres_url)
    # after close, nothing in any pool of this process still holds the lock
    probe = Store(postgres_url)
    try:
        probe.claim_writer()
    finally:
        probe.close()
