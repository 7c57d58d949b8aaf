"""Downtime classification, reason trees and reliability figures (pure): against a week computed by hand."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from edge.domain.downtime import (
    Line,
    MachineSettings,
    OrderStart,
    ReasonNode,
    ReasonTree,
    Reclassified,
    check_tree,
    classified_changes,
    classify,
    classify_columns,
    columns,
    frequent_first,
    raises_maintenance,
    tree_for,
)
from edge.domain.oee import Produced, ShiftWindow, StateChange, oee_by_shift
from edge.domain.reliability import book, pareto, pareto_parts, reliability

MON = datetime(2026, 11, 16, tzinfo=UTC)
WEEK_END = MON + timedelta(days=7)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


def leaf(code: str, loss: str = "availability", **kw: object) -> ReasonNode:
    return ReasonNode(code, {"en": code.replace("_", " "), "nl": "nl " + code}, loss=loss,
                      planned=loss == "planned", **kw)  # type: ignore[arg-type]


TREE = ReasonTree("assembly", (
    ReasonNode("mechanical", {"en": "Mechanical", "nl": "Mechanisch"}, children=(
        ReasonNode("conveyor", {"en": "Conveyor", "nl": "Transportband"}, children=(
            leaf("belt_jam", maintenance=True, plc_codes=(3,)),)),)),
    ReasonNode("electrical", {"en": "Electrical", "nl": "Elektrisch"}, children=(leaf("sensor"),)),
    ReasonNode("organisation", {"en": "Organisation", "nl": "Organisatie"}, children=(
        leaf("break", loss="planned"), leaf("reduced_speed", loss="performance"))),
), workstations=frozenset({"WS-10"}))


def week() -> list[StateChange]:
    """One machine's week (hand-computed figures in the tests below)."""
    rows = [
        (at(0, 0), "running", None),
        (at(0, 10), "down", "alarm 3"), (at(0, 11), "running", None),  # belt jam from the PLC: 60 min failure
        (at(1, 8), "down", None), (at(1, 8, 0, 30), "running", None),  # 30 s: a micro-stop
        (at(2, 12), "down", "sensor"), (at(2, 12, 30), "running", None),  # 30 min failure
        (at(3, 6), "setup", None), (at(3, 6, 45), "running", None),  # 45 min changeover (planned)
        (at(4, 12), "down", "break"), (at(4, 12, 30), "running", None),  # 30 min planned
        (at(5, 0), "offline", "no data"), (at(5, 2), "running", None),  # 120 min no data
        (at(6, 20), "down", "alarm 3"), (at(6, 21, 30), "running", None),  # 90 min failure (belt jam)
    ]
    return [StateChange("M-1", s, r, t) for t, s, r in rows]


SETTINGS = {"M-1": MachineSettings(micro_stop_s=60, workstation="WS-10")}


def test_a_tree_resolves_plc_codes_and_says_which_leaves_raise_maintenance() -> None:
    check_tree(TREE)
    assert TREE.resolve("alarm 3") is TREE.leaf("belt_jam")
    assert TREE.resolve("alarm 4") is None
    assert TREE.resolve("jammed", {3: "jammed"}) is TREE.leaf("belt_jam")
    assert TREE.path("belt_jam") == ("mechanical", "conveyor")
    assert raises_maintenance(TREE, "belt_jam") and raises_maintenance(TREE, "alarm 3")
    assert not raises_maintenance(TREE, "sensor") and not raises_maintenance(None, "belt_jam")
    assert tree_for([TREE], "WS-10", None) is TREE and tree_for([TREE], "WS-99", None) is None
    assert [x.code for x in frequent_first(TREE, {"sensor": 2, "belt_jam": 5, "break": 0})] == ["belt_jam", "sensor"]
    assert TREE.leaf("belt_jam").label("nl") == "nl belt_jam"  # type: ignore[union-attr]


def test_a_bad_tree_is_refused_naming_the_node() -> None:
    twice = ReasonTree("t", (leaf("a"), leaf("a")))
    with pytest.raises(ValueError, match="reasons\\[1\\]: reason a is in tree t twice"):
        check_tree(twice)
    with pytest.raises(ValueError, match="loss of x is one of"):
        check_tree(ReasonTree("t", (ReasonNode("x", {"en": "x"}, loss="speed"),)))


def test_the_week_is_classified_into_stops_of_every_kind() -> None:
    stops = classify(week(), WEEK_END, SETTINGS, trees={"M-1": TREE})
    got = [(s.start, s.kind, s.leaf, s.loss, s.planned, round(s.seconds)) for s in stops]
    assert got == [
        (at(0, 10), "stop", "belt_jam", "availability", False, 3600),
        (at(1, 8), "micro_stop", None, "performance", False, 30),
        (at(2, 12), "stop", "sensor", "availability", False, 1800),
        (at(3, 6), "changeover", None, "planned", True, 2700),
        (at(4, 12), "stop", "break", "planned", True, 1800),
        (at(5, 0), "no_data", None, "availability", False, 7200),
        (at(6, 20), "stop", "belt_jam", "availability", False, 5400),
    ]
    assert stops[0].maintenance and not stops[2].maintenance


def test_reliability_of_the_week_is_the_hand_computed_one() -> None:
    reasons: dict[str, int] = {}
    history = columns(week(), reasons)
    start_ms, end_ms = round(MON.timestamp() * 1000), round(WEEK_END.timestamp() * 1000)
    seg = classify_columns(history, end_ms, SETTINGS, Line(), list(reasons))["M-1"]
    booking = book(seg, list(reasons), TREE)
    total, per_reason = reliability("M-1", seg, booking, start_ms, end_ms)
    # period 10080 min; planned 45 + 30; no data 120; downtime 60 + 30 + 90 = 180; uptime 10080 - 75 - 120 - 180
    assert total.failures == 3
    assert total.downtime_s == 180 * 60 and total.planned_s == 75 * 60 and total.no_data_s == 120 * 60
    assert total.uptime_s == 9705 * 60
    assert total.mtbf_s == 3235 * 60 and total.mttr_s == 60 * 60
    assert total.availability == pytest.approx(9705 / 9885)
    assert [(f.reason, f.failures, f.downtime_s / 60, f.mttr_s and f.mttr_s / 60, f.mtbf_s and f.mtbf_s / 60)
            for f in per_reason] == [("belt_jam", 2, 150, 75, 4852.5), ("sensor", 1, 30, 30, 9705)]
    bars = pareto([pareto_parts(seg, booking, start_ms, end_ms)])
    assert [(b.reason, b.stops, b.minutes, b.cumulative_percent) for b in bars] == [
        ("belt_jam", 2, 150.0, round(100 * 150 / 300.5, 2)), ("no_data", 1, 120.0, round(100 * 270 / 300.5, 2)),
        ("sensor", 1, 30.0, round(100 * 300 / 300.5, 2)), ("micro_stop", 1, 0.5, 100.0)]
    # Tuesday to Thursday only: the sensor failure; the period's clipping counts
    t0, t1 = round(at(1, 0).timestamp() * 1000), round(at(3, 0).timestamp() * 1000)
    part, _ = reliability("M-1", seg, booking, t0, t1)
    assert (part.failures, part.downtime_s, part.uptime_s) == (1, 1800, 2 * 86400 - 1800)
    # a supervisor books the sensor stop to a belt jam
    again = book(seg, list(reasons), TREE, reclassified={round(at(2, 12).timestamp() * 1000): "belt_jam"})
    _, per_reason = reliability("M-1", seg, again, start_ms, end_ms)
    assert [(f.reason, f.failures, f.downtime_s / 60) for f in per_reason] == [("belt_jam", 3, 180)]


def test_a_reclassified_stop_and_a_changeover_tied_to_its_work_order() -> None:
    stops = classify(week(), WEEK_END, SETTINGS, trees={"M-1": TREE}, line=Line(("WS-10",), {"M-1": "WS-10"}),
                     reclassified=[Reclassified("M-1", at(1, 8), "sensor")],
                     order_starts=[OrderStart("WS-10", at(3, 6, 40), "WO-7")])
    assert (stops[1].kind, stops[1].leaf) == ("stop", "sensor")  # the micro-stop, booked by a person
    assert (stops[3].kind, stops[3].work_order) == ("changeover", "WO-7")


def test_starved_and_blocked_from_the_neighbours_on_the_line() -> None:
    line = Line(("WS-10", "WS-20", "WS-30"), {"M-1": "WS-10", "M-2": "WS-20", "M-3": "WS-30"})
    rows = [("M-1", at(0, 6), "running", None), ("M-2", at(0, 6), "running", None), ("M-3", at(0, 6), "running", None),
            ("M-1", at(0, 10), "down", "belt_jam"), ("M-2", at(0, 10, 2), "idle", None),
            ("M-1", at(0, 10, 30), "running", None), ("M-2", at(0, 10, 32), "running", None),
            ("M-3", at(0, 11), "down", "sensor"), ("M-2", at(0, 11, 1), "idle", None),
            ("M-3", at(0, 11, 20), "running", None), ("M-2", at(0, 11, 21), "running", None),
            ("M-2", at(0, 12), "idle", None), ("M-2", at(0, 12, 10), "running", None)]
    changes = [StateChange(m, s, r, t) for m, t, s, r in rows]
    stops = classify(changes, at(0, 14), {}, line=line, trees={m: TREE for m in ("M-1", "M-2", "M-3")})
    kinds = [(s.equipment, s.start, s.kind) for s in stops if s.equipment == "M-2"]
    assert kinds == [("M-2", at(0, 10, 2), "starved"), ("M-2", at(0, 11, 1), "blocked"), ("M-2", at(0, 12), "stop")]


def test_classified_stops_feed_the_oee_computation() -> None:
    changes = week()
    stops = classify(changes, WEEK_END, SETTINGS, trees={"M-1": TREE})
    w = ShiftWindow("day", MON.date(), MON, WEEK_END)
    made = [Produced(at(0, 1), Decimal(1000), Decimal(0), Decimal("5"))]
    raw = oee_by_shift("WS-10", [w], changes, made)[0]
    fed = oee_by_shift("WS-10", [w], classified_changes(changes, stops), made)[0]
    assert raw.planned_minutes == 10080 and fed.planned_minutes == 10080 - 75  # changeover and break excluded
    assert fed.run_minutes == pytest.approx(raw.run_minutes + 0.5)  # the micro-stop is run time (performance)
    assert fed.micro_stop_minutes == pytest.approx(0.5)
    assert fed.slow_cycle_minutes == pytest.approx(fed.run_minutes - 5000 - 0.5)
    assert {x.state for x in fed.losses} == {"down", "micro_stop", "no_data"}  # planned downtime is no loss
    assert fed.planned_downtime_minutes == pytest.approx(75)
    assert fed.availability > raw.availability


def test_the_site_files_tree_is_checked_and_a_machine_without_one_gets_the_default() -> None:
    from pydantic import ValidationError

    from takt.config.downtime import DEFAULT_TREE, DowntimeSection

    section = DowntimeSection.model_validate({"machines": {"M-1": {"micro_stop_s": 20, "machine_class": "press"}},
                                              "reason_trees": [{"name": "presses", "machine_class": "press",
                                                                "reasons": [{"code": "leak", "text": {"en": "Leak"},
                                                                             "plc_codes": [31]}]}]})
    trees = section.trees()
    assert tree_for(trees, "WS-1", "press") is trees[0] and tree_for(trees, "WS-1", None) is DEFAULT_TREE
    assert section.settings("M-1", "WS-1").micro_stop_s == 20 and section.settings("M-2", None).micro_stop_s == 60
    with pytest.raises(ValidationError, match="PLC reason code 31 is mapped to a and b"):
        DowntimeSection.model_validate({"reason_trees": [{"name": "t", "reasons": [
            {"code": "a", "text": {"en": "A"}, "plc_codes": [31]}, {"code": "b", "text": {"en": "B"}, "plc_codes": [31]}]}]})
    with pytest.raises(ValidationError, match="is planned exactly when its loss is planned"):
        DowntimeSection.model_validate({"reason_trees": [{"name": "t", "reasons": [
            {"code": "a", "text": {"en": "A"}, "planned": True, "loss": "availability"}]}]})


def test_slow_cycles_against_the_ideal_cycle_time() -> None:
    from edge.domain.downtime import slow_cycles

    changes = [StateChange("M-1", "running", None, at(0, 6)), StateChange("M-1", "down", "sensor", at(0, 6, 10)),
               StateChange("M-1", "running", None, at(0, 6, 40))]
    made = [Produced(at(0, 6, m), Decimal(1), Decimal(0), Decimal(2)) for m in (0, 2, 4, 10, 42, 44, 50)]
    found = slow_cycles(changes, made)
    # cycles of run time: 2, 2, 6 (slow: 4 lost), 2 (06:10-06:40 down, not run), 2, 6 (slow: 4 lost) minutes
    assert (found.reports, found.slow, found.lost_minutes) == (6, 2, 8.0)
