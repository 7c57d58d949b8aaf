"""Segregation of duties (edge.domain.duties): who approves a count, who records incoming samples, which
dispositions need a second person's signature; the policy travels in the command (issue 15)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.duties import DutyPolicy
from takt.config import PolicySection
from tests.unit.plant_helpers import QUALITY, D, Plant, use_as_is

POLICY = DutyPolicy()
SUPERVISOR = frozenset({"supervisor"})
FINISH = c.CharacteristicSpec(characteristic="finish", kind="attribute")


def test_the_site_files_defaults_are_the_domains() -> None:
    assert PolicySection().duty_policy() == POLICY


def test_a_supervisors_own_large_count_waits_for_a_second_supervisor(plant: Plant) -> None:
    [held] = plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(10), reason="cycle count", approval_pct=D(5),
                      duties=POLICY, roles=SUPERVISOR, actor="joost")
    assert isinstance(held, e.CountAwaitsApproval) and plant.stock("L1") == {"LINE1": D(100)}
    err = plant.refuse(c.DecideCount, "SECOND_PERSON_REQUIRED", "lot", lot="L1", bin="LINE1", approve=True,
                       duties=POLICY, roles=SUPERVISOR, actor="joost")
    assert "joost counted lot L1" in err.message
    plant.refuse(c.DecideCount, "ROLE_REQUIRED", None, lot="L1", bin="LINE1", approve=True, duties=POLICY,
                 roles=frozenset({"admin"}), actor="root")  # the policy names the approvers: admin configures
    events = plant.do(c.DecideCount, lot="L1", bin="LINE1", approve=True, duties=POLICY, roles=SUPERVISOR,
                      actor="marij")
    assert "count by joost approved by marij" in events[-1].reason and plant.stock("L1") == {"LINE1": D(10)}


def test_the_counter_never_approves_their_own_count_even_without_a_policy(plant: Plant) -> None:
    plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(10), reason="cycle count", approval_pct=D(5),
             roles=frozenset({"warehouse"}), actor="ana")
    plant.refuse(c.DecideCount, "SECOND_PERSON_REQUIRED", "lot", lot="L1", bin="LINE1", approve=True, roles=SUPERVISOR,
                 actor="ana")
    [discarded] = plant.do(c.DecideCount, lot="L1", bin="LINE1", approve=False, roles=SUPERVISOR, actor="ana")
    assert isinstance(discarded, e.CountDecided)  # discarding books nothing: the counter may take it back


def test_a_site_may_let_a_role_book_its_own_counts(plant: Plant) -> None:
    lenient = DutyPolicy(counts_booked_at_once=SUPERVISOR)
    [moved] = plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(10), reason="recount", approval_pct=D(5),
                       duties=lenient, roles=SUPERVISOR)
    assert isinstance(moved, e.StockMoved)


def _incoming(plant: Plant) -> None:
    plant.do(c.DefinePurchaseOrder, purchase_order="PO1", supplier="ACME", roles=frozenset({"service"}),
             lines=(c.PurchaseOrderLineSpec(line=1, item="SCREW", quantity=Decimal(60)),))
    plant.do(c.DefineInspectionPlan, plan="INC", description="", kind="incoming", item="SCREW", sample_size=2,
             characteristics=(FINISH,), roles=QUALITY)
    plant.do(c.ReceiveAgainstPurchaseOrder, purchase_order="PO1", line=None, lot="S1", item="SCREW",
             quantity=Decimal(60), bin="RECV", supplier_lot="SUP-S1", roles=frozenset({"warehouse"}))


def test_incoming_samples_are_recorded_by_the_roles_the_policy_names(plant: Plant) -> None:
    _incoming(plant)
    sample: dict[str, Any] = {"plan": "INC", "lot": "S1", "measurements": (c.Measurement(characteristic="finish", passed=True),)}
    for role in ("operator", "supervisor", "service"):
        plant.refuse(c.RecordInspection, "ROLE_REQUIRED", None, inspection=f"I-{role}", duties=POLICY,
                     roles=frozenset({role}), **sample)
    plant.do(c.RecordInspection, inspection="I1", duties=POLICY, roles=frozenset({"warehouse"}), **sample)
    plant.do(c.RecordInspection, inspection="I2", duties=POLICY, roles=QUALITY, **sample)
    assert plant.state.inspection_tasks["INC-S1"].status == "passed"


def test_use_as_is_needs_a_second_quality_signature(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="scratch", lot="L1", roles=QUALITY)
    [proposed, _signed] = plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="use_as_is", duties=POLICY,
                          roles=QUALITY, actor="priya", **use_as_is("cosmetic"))
    assert isinstance(proposed, e.DispositionProposed) and plant.state.nonconformances["NCR-1"].status == "open"
    assert plant.lot("L1").status == "hold"
    plant.refuse(c.DispositionNonconformance, "SECOND_SIGNATURE_REQUIRED", "disposition", ncr="NCR-1",
                 disposition="use_as_is", duties=POLICY, roles=QUALITY, actor="priya", **use_as_is())
    [other, *_] = plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="scrap", duties=POLICY,
                           roles=QUALITY, actor="kees")  # scrap needs one signature: it closes the NCR, the proposal is gone
    assert isinstance(other, e.NonconformanceDispositioned) and other.countersigned_by is None
    plant.do(c.RaiseNonconformance, ncr="NCR-2", description="scratch", lot="L1", roles=QUALITY)
    plant.do(c.DispositionNonconformance, ncr="NCR-2", disposition="use_as_is", duties=POLICY, roles=QUALITY,
             actor="priya", **use_as_is())
    signed = plant.do(c.DispositionNonconformance, ncr="NCR-2", disposition="use_as_is", duties=POLICY,
                      roles=QUALITY, actor="kees", **use_as_is())
    assert (signed[0].dispositioned_by, signed[0].countersigned_by) == ("priya", "kees")
    ncr = plant.state.nonconformances["NCR-2"]
    assert (ncr.status, ncr.countersigned_by, ncr.proposed_by) == ("closed", "kees", None)


def test_without_a_policy_one_signature_closes_as_before(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="scratch", lot="L1", roles=QUALITY)
    [closed, *_] = plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="use_as_is", roles=QUALITY,
                            **use_as_is())
    assert isinstance(closed, e.NonconformanceDispositioned)
