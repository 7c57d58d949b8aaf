"""The site file's maintenance of a machine: the demo's seeds say when stops raise requests and which preventive
plans run, and a bad setting is refused naming where it stands."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from edge.domain import commands as c
from takt.runtime import seed_commands
from tests.unit.test_config import DEMO, demo_with, refused


def test_the_demo_seeds_the_press_maintenance_settings_and_plans() -> None:
    from takt.config import load_config

    seeds = {s.key: s.command for s in seed_commands(load_config(DEMO))}
    setting = seeds["seed:maintenance:PRESS-10"]
    assert isinstance(setting, c.ConfigureMaintenance)
    # its own reason, then the reason the demo's reason tree marks for maintenance (breakdown, PLC code 104)
    assert (setting.request_reasons, setting.request_after_s) == (("overtemperature", "breakdown", "alarm 104"), 1800)
    flagged = seeds["seed:maintenance:SCREWDRIVER-20"]  # no maintenance section: the tree's flag alone
    assert isinstance(flagged, c.ConfigureMaintenance)
    assert (flagged.request_reasons, flagged.request_after_s) == (("breakdown", "alarm 104"), None)
    guide = seeds["seed:maintenance-plan:PM-PRESS-10-GUIDE"]
    assert isinstance(guide, c.DefineMaintenancePlan)
    assert (guide.equipment, guide.kind, guide.interval, guide.blocks_start) == ("PRESS-10", "cycles",
                                                                                 Decimal(5000), True)
    keys = list(seeds)  # machines first: a machine's maintenance is seeded after every machine is defined
    assert keys.index("seed:maintenance:PRESS-10") > keys.index("seed:equipment:TESTRIG-30")


def test_a_bad_plan_kind_and_threshold_are_refused_naming_the_machine(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        press = data["master_data"]["equipment"][0]["maintenance"]
        press["request_after_s"] = 0
        press["plans"][0]["kind"] = "weekly"

    err = refused(demo_with(tmp_path, edit=edit))
    assert [p.path for p in err.problems] == ["master_data.equipment[0].maintenance.request_after_s",
                                              "master_data.equipment[0].maintenance.plans[0].kind"]
