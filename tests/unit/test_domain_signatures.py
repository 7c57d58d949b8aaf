"""Electronic signatures as events: given with a command (a disposition, a signed plan's verdict) or over recorded
events; meanings, the second factor's absence, and a signed record that is superseded, never changed."""
from __future__ import annotations

from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.signatures import signature_id
from tests.unit.plant_helpers import QUALITY, Plant

FINISH = c.CharacteristicSpec(characteristic="finish", kind="attribute")


def _sig(key: str, meaning: str = "approved", **fields: Any) -> c.SignatureSpec:
    return c.SignatureSpec(signature=signature_id(key), signer_name="Priya Raman", meaning=meaning, **fields)


def _plan(plant: Plant, **fields: Any) -> list[Any]:
    return plant.do(c.DefineInspectionPlan, plan="FINAL-PUMP", description="Final", kind="final", item="PUMP",
                    characteristics=(FINISH,), roles=QUALITY, **fields)


def _ref(plant: Plant, seq: int, ev: Any, **fields: Any) -> c.RecordRef:
    return c.RecordRef(seq=seq, found=True, hash=f"{seq:064x}", type=type(ev).__name__, subject=ev.subject, **fields)


def test_a_signed_disposition_records_the_signature_over_its_events(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="scratched", lot="L1")
    events = plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="scrap", actor="priya", roles=QUALITY,
                      signature=_sig("d1"))
    *decided, signed = events
    assert isinstance(signed, e.RecordsSigned) and signed.inline
    assert (signed.signer, signed.signer_name, signed.meaning, signed.signature) == (
        "priya", "Priya Raman", "approved", signature_id("d1"))
    # the write path fills in seq and hash; the domain names what it signs
    assert [(r.type, r.subject) for r in signed.records] == [(type(ev).__name__, ev.subject) for ev in decided]
    assert plant.state.signed["ncr:NCR-1"].signature == signature_id("d1")


def test_a_meaning_outside_the_sites_list_is_refused(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="scratched", lot="L1")
    plant.refuse(c.DispositionNonconformance, "INVALID_MEANING", "meaning", ncr="NCR-1", disposition="scrap",
                 roles=QUALITY, signature=_sig("d1", meaning="okayed"))
    plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="scrap", roles=QUALITY,
             signature=_sig("d1", meaning="okayed", meanings=("okayed",)))


def test_the_verdict_of_a_signed_plan_needs_a_signature(plant: Plant) -> None:
    _plan(plant, signed=True)
    for op in (10, 20):
        plant.do(c.StartOperation, work_order="WO1", operation=op)
    err = plant.refuse(c.RecordInspection, "SIGNATURE_REQUIRED", "X-Takt-Pin", inspection="F1", plan="FINAL-PUMP",
                       work_order="WO1", roles=QUALITY, measurements=(c.Measurement(characteristic="finish",
                                                                                    passed=True),))
    assert "FINAL-PUMP" in err.message
    events = plant.do(c.RecordInspection, inspection="F1", plan="FINAL-PUMP", work_order="WO1", roles=QUALITY,
                      measurements=(c.Measurement(characteristic="finish", passed=True),),
                      signature=_sig("f1", meaning="released"))
    assert [type(ev).__name__ for ev in events] == [
        "InspectionTaskOpened", "InspectionRecorded", "FinalInspectionVerdict", "RecordsSigned"]


def test_a_signed_plan_is_superseded_never_changed(plant: Plant) -> None:
    [defined] = _plan(plant)
    [signed] = plant.do(c.SignRecords, records=(_ref(plant, 7, defined),), actor="priya", roles=QUALITY,
                        signature=_sig("s1"))
    assert [(r.seq, r.hash) for r in signed.records] == [(7, f"{7:064x}")]
    err = plant.refuse(c.DefineInspectionPlan, "RECORD_SIGNED", "supersedes", plan="FINAL-PUMP", description="v2",
                       kind="final", item="PUMP", characteristics=(FINISH,), roles=QUALITY)
    assert signature_id("s1") in err.message and "Priya Raman" in err.message
    # a signature that supersedes another signs (some of) its records
    plant.do(c.DefineInspectionPlan, plan="OTHER", description="", kind="final", item="PUMP",
             characteristics=(FINISH,), roles=QUALITY)
    plant.refuse(c.DefineInspectionPlan, "SUPERSEDES_OTHER_RECORDS", "supersedes", plan="OTHER", description="v2",
                 kind="final", item="PUMP", characteristics=(FINISH,), roles=QUALITY,
                 signature=_sig("x", supersedes=signature_id("s1")))
    events = plant.do(c.DefineInspectionPlan, plan="FINAL-PUMP", description="v2", kind="final", item="PUMP",
                      characteristics=(FINISH,), roles=QUALITY, signature=_sig("s2", supersedes=signature_id("s1")))
    assert events[-1].supersedes == signature_id("s1")
    assert plant.state.superseded == {signature_id("s1"): signature_id("s2")}
    plant.refuse(c.DefineInspectionPlan, "SIGNATURE_SUPERSEDED", "supersedes", plan="FINAL-PUMP", description="v3",
                 kind="final", item="PUMP", characteristics=(FINISH,), roles=QUALITY,
                 signature=_sig("s3", supersedes=signature_id("s1")))


@pytest.mark.parametrize(("ref", "code", "field"), [
    ({"found": False}, "UNKNOWN_RECORD", "events[0].seq"),
    ({"expected_hash": "0" * 64}, "RECORD_CHANGED", "events[0].hash"),
])
def test_signing_events_checks_them(plant: Plant, ref: dict[str, Any], code: str, field: str) -> None:
    [defined] = _plan(plant)
    plant.refuse(c.SignRecords, code, field, records=(c.RecordRef(**{**vars(_ref(plant, 3, defined)), **ref}),),
                 roles=QUALITY, signature=_sig("s1"))


def test_signing_needs_the_second_factor_a_role_and_no_second_signature_of_the_same_meaning(plant: Plant) -> None:
    [defined] = _plan(plant)
    refs = (_ref(plant, 3, defined),)
    plant.refuse(c.SignRecords, "SIGNATURE_REQUIRED", "X-Takt-Pin", records=refs, roles=QUALITY)
    plant.refuse(c.SignRecords, "ROLE_REQUIRED", None, records=refs, signature=_sig("s1"))
    plant.do(c.SignRecords, records=refs, roles=QUALITY, signature=_sig("s1", meaning="reviewed"))
    plant.do(c.SignRecords, records=refs, roles=QUALITY, signature=_sig("s2", meaning="approved"))
    plant.refuse(c.SignRecords, "RECORD_SIGNED", "supersedes", records=refs, roles=QUALITY,
                 signature=_sig("s3", meaning="approved"))
