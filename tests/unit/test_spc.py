"""SPC as pure functions: limits from a baseline, each Western Electric rule on patterns built to trip it (and
near misses that must not), Cp and Cpk."""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.domain.spc import (
    A2,
    D2,
    NotEnoughData,
    capability,
    individuals_limits,
    subgroup_means,
    western_electric,
    xbar_r_limits,
)

# Moving ranges of 1.0 everywhere: MR-bar = 1, sigma = 1 / 1.128, limits at 10 +- 2.66.
BASE = [10.5, 9.5] * 10


def test_individuals_limits_from_the_moving_range() -> None:
    limits = individuals_limits(BASE)
    assert limits.center == pytest.approx(10.0)
    assert limits.range_center == pytest.approx(1.0)
    assert limits.sigma == pytest.approx(1 / D2[2])
    assert limits.ucl == pytest.approx(10 + 3 / 1.128) and limits.lcl == pytest.approx(10 - 3 / 1.128)
    assert limits.range_ucl == pytest.approx(3.267)
    with pytest.raises(NotEnoughData):
        individuals_limits([10.0])


def test_xbar_r_limits_use_the_subgroup_constants() -> None:
    groups = [[9.0, 10.0, 11.0, 10.0, 10.0]] * 6  # R = 2, mean 10
    limits = xbar_r_limits(groups)
    assert (limits.chart, limits.n, limits.center, limits.range_center) == ("xbar_r", 5, 10.0, 2.0)
    assert limits.ucl == pytest.approx(10 + A2[5] * 2) and limits.lcl == pytest.approx(10 - A2[5] * 2)
    assert limits.sigma == pytest.approx(2 / D2[5])
    assert subgroup_means([1, 2, 3, 4, 5, 6, 7], 3) == [2.0, 5.0]
    with pytest.raises(ValueError):
        xbar_r_limits([[1.0, 2.0], [1.0, 2.0, 3.0]])


def rules(points: list[float]) -> set[tuple[int, str]]:
    limits = individuals_limits(BASE)
    return {(v.rule, v.side) for v in western_electric(points, limits, only_last=True)}


def sig(k: float) -> float:
    """The value k sigmas from the baseline's centre."""
    return 10 + k / 1.128


def test_rule_1_one_point_beyond_three_sigma() -> None:
    assert (1, "above") in rules([10.0, sig(3.2)])
    assert (1, "below") in rules([10.0, sig(-3.2)])
    assert rules([10.0, sig(2.9)]) == set()


def test_rule_2_two_of_three_beyond_two_sigma() -> None:
    assert rules([sig(2.2), 10.0, sig(2.5)]) == {(2, "above")}
    assert rules([sig(-2.2), sig(-2.5)]) == set()  # fewer than three points: no window yet
    assert rules([10.0, sig(-2.2), sig(-2.5)]) == {(2, "below")}
    assert rules([sig(2.2), 10.0, sig(-2.5)]) == set()  # not on the same side


def test_rule_3_four_of_five_beyond_one_sigma() -> None:
    assert rules([sig(1.5), sig(1.2), 10.0, sig(1.8), sig(1.1)]) == {(3, "above")}
    assert rules([sig(1.5), sig(0.5), 10.0, sig(1.8), sig(1.1)]) == set()


def test_rule_4_eight_in_a_row_on_one_side() -> None:
    assert rules([sig(0.3)] * 8) == {(4, "above")}
    assert rules([sig(0.3)] * 7 + [sig(-0.1)]) == set()
    assert rules([sig(-0.3)] * 9) == {(4, "below")}


def test_only_last_reports_what_the_new_point_completes() -> None:
    limits = individuals_limits(BASE)
    points = [sig(3.5), 10.0, 10.0]
    assert [v.rule for v in western_electric(points, limits)] == [1]
    assert western_electric(points, limits, only_last=True) == []


def test_cp_and_cpk() -> None:
    limits = individuals_limits(BASE)  # sigma = 1 / 1.128
    cap = capability(limits, lsl=7.0, usl=13.0)
    assert cap.cp == pytest.approx(6 / (6 / 1.128)) and cap.cpk == pytest.approx(3 / (3 / 1.128))
    off = capability(limits, lsl=7.0, usl=12.0)  # nearer the upper limit: Cpk from that side
    assert off.cpk == pytest.approx(2 / (3 / 1.128)) and off.cpk < off.cp  # type: ignore[operator]
    one_sided = capability(limits, lsl=None, usl=12.0)
    assert one_sided.cp is None and one_sided.cpk == pytest.approx(off.cpk)


@given(st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=2, max_size=60))
def test_points_inside_one_sigma_never_trip_rules_1_to_3(baseline: list[float]) -> None:
    limits = individuals_limits(baseline)
    if limits.sigma == 0:
        return
    rng = random.Random(len(baseline))
    inside = [limits.center + rng.uniform(-0.9, 0.9) * limits.sigma for _ in range(30)]
    assert not [v for v in western_electric(inside, limits) if v.rule in (1, 2, 3)]
    assert all(math.isfinite(p) for p in inside)
