"""A measurement no part can have is refused, not judged: the plausible range of a characteristic (issue 15)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain.model import PLAUSIBLE_BANDS, Characteristic
from tests.unit.plant_helpers import QUALITY, D, Plant

BORE = c.CharacteristicSpec(characteristic="bore", kind="numeric", nominal=D(25), lsl=D("24.95"), usl=D("25.05"),
                            unit="mm")


def _measure(plant: Plant, value: Decimal, plan: str = "P-BORE", inspection: str = "I1") -> dict[str, Any]:
    return {"inspection": inspection, "plan": plan, "roles": QUALITY,
            "measurements": (c.Measurement(characteristic="bore", value=value),)}


@pytest.mark.parametrize(("value", "plausible"), [
    (D("25.01"), True), (D("26.05"), True), (D("23.95"), True),  # 10 bands of 0.1 beyond the limits: a bad part
    (D("26.0501"), False), (D("2.501"), False), (D("250.1"), False), (D("25010"), False), (D("-25"), False),
])
def test_a_reading_beyond_ten_tolerance_bands_is_refused_naming_the_value(
        plant: Plant, value: Decimal, plausible: bool) -> None:
    plant.do(c.DefineInspectionPlan, plan="P-BORE", description="Bore", characteristics=(BORE,), hold_on_fail=False)
    if plausible:
        [recorded] = plant.do(c.RecordInspection, **_measure(plant, value))
        assert recorded.results[0].value == value
    else:
        err = plant.refuse(c.RecordInspection, "IMPLAUSIBLE_VALUE", "measurements[0].value", **_measure(plant, value))
        assert "decimal point" in err.message and "23.95..26.05" in err.message


def test_a_plan_sets_its_own_plausible_range_within_bounds(plant: Plant) -> None:
    plant.do(c.DefineInspectionPlan, plan="P-WIDE", description="Bore", characteristics=(BORE,), hold_on_fail=False,
             plausible_bands=D(1000))
    [recorded] = plant.do(c.RecordInspection, **_measure(plant, D("100"), plan="P-WIDE"))
    assert recorded.passed is False
    for bad in (D(0), D("1000.5"), D("NaN")):
        plant.refuse(c.DefineInspectionPlan, "INVALID_VALUE", "plausible_bands", plan="P-X", description="x",
                     characteristics=(BORE,), plausible_bands=bad)
    assert plant.state.inspection_plans["P-WIDE"].plausible_bands == D(1000)


def test_the_range_of_one_sided_and_degenerate_limits() -> None:
    def rng(**limits: Any) -> object:
        return Characteristic(plan="P", characteristic="c", kind="numeric", **limits).plausible_range(PLAUSIBLE_BANDS)

    assert rng(lsl=D(5)) == (D(-45), None)  # a minimum torque: the open side stays open
    assert rng(usl=D("0.8"), nominal=D("0.4")) == (None, D("4.8"))  # a roughness maximum: the band from the nominal
    assert rng(lsl=D(0), usl=D(0)) == (D(-10), D(10))  # equal limits at zero: a band of 1
    assert rng(lsl=D("9.95"), usl=D("1E+1000000")) is not None  # a limit from before the bounds: no error
    assert Characteristic(plan="P", characteristic="c", kind="attribute").plausible_range(PLAUSIBLE_BANDS) is None
