"""Statistical process control: control limits from a baseline, the Western Electric rules, Cp and Cpk.

Pure functions over plain numbers. Two charts:

- **individuals / moving range** (one value per inspection): centre = mean of the baseline, sigma = MR̄ / d2(2),
  limits = centre ± 3 sigma (= ± 2.66 MR̄); the moving-range chart's upper limit is D4(2) · MR̄.
- **X̄-R** (subgroups of n = 2..10 values): centre = X̿, sigma = R̄ / d2(n), limits = X̿ ± A2(n) · R̄; the range
  chart's limits are D3(n) · R̄ and D4(n) · R̄.

The Western Electric rules, each judged on one side of the centre line:
1. one point beyond 3 sigma;
2. two of three points in a row beyond 2 sigma;
3. four of five points in a row beyond 1 sigma;
4. eight points in a row on the same side of the centre.

Cp = (USL − LSL) / 6 sigma and Cpk = min(USL − mean, mean − LSL) / 3 sigma use the within-subgroup sigma the chart
uses (a one-sided specification has a Cpk but no Cp).

Limits come from a **baseline** (the first results of a characteristic, :data:`BASELINE`), not from the points being
judged: a process that drifts must not drag its own limits along.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

BASELINE = 25  # results that set a characteristic's control limits
WINDOW = 50  # the latest results judged by the rules and drawn on a chart

# Control chart constants by subgroup size (ASTM / Montgomery).
D2 = {2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970, 10: 3.078}
A2 = {2: 1.880, 3: 1.023, 4: 0.729, 5: 0.577, 6: 0.483, 7: 0.419, 8: 0.373, 9: 0.337, 10: 0.308}
D3 = {2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0, 6: 0.0, 7: 0.076, 8: 0.136, 9: 0.184, 10: 0.223}
D4 = {2: 3.267, 3: 2.574, 4: 2.282, 5: 2.114, 6: 2.004, 7: 1.924, 8: 1.864, 9: 1.816, 10: 1.777}

Chart = Literal["individuals", "xbar_r"]
Side = Literal["above", "below"]
SIDES: tuple[tuple[Side, float], ...] = (("above", 1.0), ("below", -1.0))


@dataclass(frozen=True, slots=True)
class Limits:
    chart: Chart
    n: int  # subgroup size (1 for individuals)
    center: float
    ucl: float
    lcl: float
    sigma: float  # within-subgroup estimate of the process sigma
    range_center: float  # MR̄ or R̄
    range_ucl: float
    range_lcl: float


@dataclass(frozen=True, slots=True)
class Violation:
    rule: int  # 1..4, Western Electric
    index: int  # the point that completes the pattern
    side: Side
    message: str


@dataclass(frozen=True, slots=True)
class Capability:
    cp: float | None
    cpk: float | None


class NotEnoughData(ValueError):
    pass


def individuals_limits(values: Sequence[float]) -> Limits:
    """Limits of an individuals / moving-range chart from a baseline of at least two values."""
    if len(values) < 2:
        raise NotEnoughData(f"an individuals chart needs at least 2 baseline values, not {len(values)}")
    center = math.fsum(values) / len(values)
    mr_bar = math.fsum(abs(b - a) for a, b in zip(values, values[1:], strict=False)) / (len(values) - 1)
    sigma = mr_bar / D2[2]
    return Limits("individuals", 1, center, center + 3 * sigma, center - 3 * sigma, sigma, mr_bar, D4[2] * mr_bar, 0.0)


def xbar_r_limits(subgroups: Sequence[Sequence[float]]) -> Limits:
    """Limits of an X̄-R chart from baseline subgroups, all of the same size n (2..10)."""
    if len(subgroups) < 2:
        raise NotEnoughData(f"an X-bar R chart needs at least 2 baseline subgroups, not {len(subgroups)}")
    n = len(subgroups[0])
    if n not in A2 or any(len(g) != n for g in subgroups):
        raise ValueError(f"subgroups must all have the same size between 2 and 10; got {sorted({len(g) for g in subgroups})}")
    means = [math.fsum(g) / n for g in subgroups]
    center = math.fsum(means) / len(means)
    r_bar = math.fsum(max(g) - min(g) for g in subgroups) / len(subgroups)
    return Limits("xbar_r", n, center, center + A2[n] * r_bar, center - A2[n] * r_bar, r_bar / D2[n], r_bar,
                  D4[n] * r_bar, D3[n] * r_bar)


def subgroup_means(values: Sequence[float], n: int) -> list[float]:
    """The means of consecutive subgroups of ``n`` values (a last, incomplete subgroup is left out)."""
    return [math.fsum(values[i:i + n]) / n for i in range(0, len(values) - n + 1, n)]


def _zone(point: float, limits: Limits) -> float:
    """How many sigmas of the plotted statistic a point lies from the centre (signed)."""
    spread = (limits.ucl - limits.center) / 3  # sigma of what is plotted (of a mean, for X-bar)
    if spread <= 0:
        return 0.0 if point == limits.center else math.copysign(math.inf, point - limits.center)
    return (point - limits.center) / spread


def western_electric(points: Sequence[float], limits: Limits, *, only_last: bool = False) -> list[Violation]:
    """Rule violations in ``points`` (the plotted statistic: values, or subgroup means). With ``only_last``, only
    the patterns that the last point completes (what a new result raises)."""
    z = [_zone(p, limits) for p in points]
    found: list[Violation] = []
    indexes = [len(z) - 1] if only_last and z else range(len(z))
    for i in indexes:
        for side, sign in SIDES:
            s = [sign * v for v in z[max(0, i - 7):i + 1]]  # this side's view of the last eight points
            if s[-1] > 3:
                found.append(Violation(1, i, side, f"a point {side} the 3-sigma limit"))
            if s[-1] > 2 and sum(1 for v in s[-3:] if v > 2) >= 2 and len(s) >= 3:
                found.append(Violation(2, i, side, f"2 of 3 points {side} 2 sigma"))
            if s[-1] > 1 and sum(1 for v in s[-5:] if v > 1) >= 4 and len(s) >= 5:
                found.append(Violation(3, i, side, f"4 of 5 points {side} 1 sigma"))
            if len(s) == 8 and all(v > 0 for v in s):
                found.append(Violation(4, i, side, f"8 points in a row {side} the centre line"))
    return found


def capability(limits: Limits, lsl: float | None, usl: float | None, mean: float | None = None) -> Capability:
    """Cp and Cpk of a characteristic against its specification, with the chart's within sigma."""
    centre = limits.center if mean is None else mean
    sigma = limits.sigma
    if sigma <= 0:
        return Capability(None, None)
    cp = (usl - lsl) / (6 * sigma) if lsl is not None and usl is not None else None
    sides = [(usl - centre) / (3 * sigma)] if usl is not None else []
    sides += [(centre - lsl) / (3 * sigma)] if lsl is not None else []
    return Capability(cp, min(sides) if sides else None)
