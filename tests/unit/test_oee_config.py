"""The shift calendar in the site configuration: loaded into shifts, bad days, times and time zones refused with
their path."""
from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from takt.config import ConfigError, load_config

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def test_the_demo_has_three_shifts_in_amsterdam_time() -> None:
    site = load_config(DEMO).site
    assert site.timezone == "Europe/Amsterdam"
    night = site.shifts[2].shift()
    assert (night.name, night.start, night.end, night.days) == ("night", time(22), time(6), frozenset(range(7)))


def test_a_shift_runs_on_the_weekdays_given(tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["site"]["shifts"] = [{"name": "early", "start": "06:00", "end": "14:00", "days": ["mon", "Tuesday"]}]
    file = tmp_path / "site.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert load_config(file).site.shifts[0].shift().days == frozenset({0, 1})


@pytest.mark.parametrize(("edit", "path", "reason"), [
    ({"timezone": "Mars/Olympus"}, "site.timezone", "'Mars/Olympus' is not a time zone"),
    ({"shifts": [{"name": "early", "start": "06:00", "end": "14:00", "days": ["mon", "funday"]}]}, "site.shifts[0]",
     "'funday' is not a weekday"),
    ({"shifts": [{"name": "early", "start": "25:00", "end": "14:00"}]}, "site.shifts[0].start", "time"),
])
def test_a_bad_shift_calendar_is_refused_with_its_path(tmp_path: Path, edit: dict[str, Any], path: str,
                                                        reason: str) -> None:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["site"].update(edit)
    file = tmp_path / "site.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    problems = caught.value.problems
    assert [p.path for p in problems] == [path]
    assert reason in problems[0].reason
