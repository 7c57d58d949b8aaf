"""kill -9 in the middle of a stream of commands loses no acknowledged command and duplicates none.

Runs the benchmark ``python -m bench.kill9`` as a child process: it runs the demo node as a child process of its
own, SIGKILLs it while 8 clients post stock moves, restarts it on the same data, and checks the journal, the stock
and idempotent re-sends (``bench.kill9`` has the details); after the last trial the store must replay from its
journal to the same state (``takt store verify``). The test reads each trial's result from ``--json``.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_kill9_loses_no_acknowledged_command(tmp_path: Path) -> None:
    report_file = tmp_path / "kill9.json"
    done = subprocess.run([sys.executable, "-m", "bench.kill9", "--trials", "4", "--clients", "8", "--seed", "9",
                           "--data-dir", str(tmp_path / "node"), "--json", str(report_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and report_file.exists(), done.stdout + done.stderr
    report = json.loads(report_file.read_text(encoding="utf-8"))
    trials = [SimpleNamespace(**t) for t in report["results"]]
    replays_to_same_state = report["verify_after_ok"]
    assert len(trials) == 4, done.stdout
    for t in trials:
        assert t.acknowledged > 0, f"trial {t.trial}: no command was acknowledged before the kill"
        assert t.lost == [], f"trial {t.trial}: acknowledged but not journaled after restart: {t.lost[:10]}"
        assert t.duplicates == 0, f"trial {t.trial}: {t.duplicates} keys journaled more than once"
        assert t.phantoms == 0, f"trial {t.trial}: journaled keys that no client sent"
        assert t.stock_ok, f"trial {t.trial}: {t.problems}"
        assert t.replays_ok, f"trial {t.trial}: re-sending a recorded key was not a replay: {t.problems}"
        assert t.replay_new_rows == 0, f"trial {t.trial}: re-sending added {t.replay_new_rows} journal rows"
    assert replays_to_same_state, "after the crashes, replaying the journal does not give the stored state"
