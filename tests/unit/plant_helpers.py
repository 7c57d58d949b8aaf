"""Helpers for the pure-domain tests: a small plant built through ``decide`` + ``evolve`` only.

Every test state is reached by real commands, so the rules that built it are exercised too. ``Plant.do``
checks on the way that ``decide`` never touches the state; ``Plant.refuse`` checks that a refused
command leaves the state exactly as it was and that the error names its code and field.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from edge.domain import DomainError, PlantState, decide, evolve
from edge.domain import commands as c
from edge.domain.plant import STATE_TABLES

D = Decimal
NOW = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
OPERATOR = frozenset({"operator", "warehouse"})
QUALITY = frozenset({"quality"})
_SIGNATURES = iter(range(1, 1_000_000))


def use_as_is(justification: str = "inside the customer's spec") -> dict[str, Any]:
    """The fields of a "use as is" disposition: its justification, signed (a new signature each call)."""
    return {"comment": justification, "signature": c.SignatureSpec(
        signature=f"SIG-{next(_SIGNATURES):016X}", signer_name="Quinn Quality", meaning="approved")}


def tables(state: PlantState) -> dict[str, Any]:
    """Everything a user can see of the state: the current-state tables plus recorded inspections."""
    seen: dict[str, Any] = {name: copy.deepcopy(getattr(state, name)) for name in STATE_TABLES}
    seen["inspections"] = set(state.inspections)
    return seen


class Plant:
    """A PlantState driven by commands, with a fixed clock."""

    def __init__(self, now: datetime = NOW) -> None:
        self.state = PlantState()
        self.now = now
        self._keys = 0

    def command(self, kind: Callable[..., c.Command], /, *, actor: str = "ana",
                roles: frozenset[str] = OPERATOR, **fields: Any) -> c.Command:
        self._keys += 1
        return kind(idempotency_key=f"k{self._keys}", actor=actor, actor_roles=roles, **fields)

    def decide(self, kind: Callable[..., c.Command], /, *, now: datetime | None = None, **fields: Any) -> list[Any]:
        """Only decide: the events a command would cause (the state must stay as it is)."""
        before = tables(self.state)
        events = decide(self.state, self.command(kind, **fields), now or self.now)
        assert tables(self.state) == before, "decide changed the state"
        return events

    def do(self, kind: Callable[..., c.Command], /, *, now: datetime | None = None, **fields: Any) -> list[Any]:
        """Decide and apply: the command is accepted and its events become the new state."""
        events = self.decide(kind, now=now, **fields)
        for ev in events:
            evolve(self.state, ev)
        return events

    def refuse(self, kind: Callable[..., c.Command], code: str, field: str | None, /, *,
               now: datetime | None = None, **fields: Any) -> DomainError:
        """The command is refused with ``code`` naming ``field``, and nothing changes."""
        before = tables(self.state)
        with pytest.raises(DomainError) as caught:
            decide(self.state, self.command(kind, **fields), now or self.now)
        err = caught.value
        assert (err.code, err.field) == (code, field), err.as_dict()
        assert err.message
        assert tables(self.state) == before, "a refused command changed the state"
        return err

    # --- views used by the assertions ------------------------------------------------------------

    def stock(self, lot: str) -> dict[str, Decimal]:
        """Bin -> quantity of a lot; a bin without stock has no row at all."""
        return {b: row.quantity for (lt, b), row in self.state.stock.items() if lt == lot}

    def lot(self, lot: str) -> Any:
        return self.state.lots[lot]

    def op(self, work_order: str, operation: int) -> Any:
        return self.state.operations[(work_order, operation)]

    def wo(self, work_order: str) -> Any:
        return self.state.work_orders[work_order]


def build_plant(now: datetime = NOW) -> Plant:
    """Items, bins, equipment, an inspection plan and work order WO1 (10 pumps, 4 screws each)."""
    p = Plant(now)
    for item, rev in (("PUMP", "A"), ("SCREW", "B"), ("GASKET", "C")):
        p.do(c.DefineItem, item=item, description=item.title(), unit="pcs", revision=rev, roles=frozenset({"admin"}))
    p.do(c.DefineBin, bin="RECV", zone="R")
    p.do(c.DefineBin, bin="A-01", zone="A", capacity=D(50))
    p.do(c.DefineBin, bin="A-02-3", zone="A")
    p.do(c.DefineBin, bin="LINE1", zone="L")
    p.do(c.DefineBin, bin="CAGE", zone="Q", allowed_items=("GASKET",))
    p.do(c.DefineEquipment, equipment="M1", workstation="WS1")
    p.do(c.ReleaseWorkOrder, work_order="WO1", item="PUMP", item_revision="A", bom_revision="3", quantity=D(10),
         overproduction_tolerance_pct=D(10),
         operations=(c.OperationSpec(operation=10, description="Assemble", workstation="WS1"),
                     c.OperationSpec(operation=20, description="Test", workstation="WS2")),
         bom=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(4)),
              c.BomLineSpec(line=2, item="GASKET", item_revision="C", quantity_per=D(1))))
    p.do(c.ReceiveLot, lot="L1", item="SCREW", item_revision=None, quantity=D(100), bin="LINE1",
         expiry=date(2027, 1, 1))
    return p
