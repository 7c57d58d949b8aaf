"""kill -9 in the middle of a stream of commands loses no acknowledged command and duplicates none.

Runs the demo node as a child process, SIGKILLs it while 8 clients post stock moves, restarts it on the
same data, and checks the journal, the stock and idempotent re-sends (``bench.kill9`` has the details);
after the last trial the store must replay from its journal to the same state (``takt store verify``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.kill9 import run_trials  # noqa: E402


@pytest.mark.slow
def test_kill9_loses_no_acknowledged_command(tmp_path: Path) -> None:
    trials, replays_to_same_state = run_trials(tmp_path / "node", 4, clients=8, seed=9)
    for t in trials:
        assert t.acknowledged > 0, f"trial {t.trial}: no command was acknowledged before the kill"
        assert t.lost == [], f"trial {t.trial}: acknowledged but not journaled after restart: {t.lost[:10]}"
        assert t.duplicates == 0, f"trial {t.trial}: {t.duplicates} keys journaled more than once"
        assert t.phantoms == 0, f"trial {t.trial}: journaled keys that no client sent"
        assert t.stock_ok, f"trial {t.trial}: {t.problems}"
        assert t.replays_ok, f"trial {t.trial}: re-sending a recorded key was not a replay: {t.problems}"
        assert t.replay_new_rows == 0, f"trial {t.trial}: re-sending added {t.replay_new_rows} journal rows"
    assert replays_to_same_state, "after the crashes, replaying the journal does not give the stored state"
