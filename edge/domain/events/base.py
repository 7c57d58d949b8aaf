"""The event every fact recorded is, and the ``subject`` the sync keeps per-subject order by."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EquipmentSubject", "Event", "LotSubject", "WorkOrderSubject"]


@dataclass(frozen=True, kw_only=True)
class Event:
    @property
    def subject(self) -> str:  # pragma: no cover - every event overrides
        raise NotImplementedError


class LotSubject:
    lot: str

    @property
    def subject(self) -> str:
        return f"lot:{self.lot}"


class WorkOrderSubject:
    work_order: str

    @property
    def subject(self) -> str:
        return f"work_order:{self.work_order}"


class EquipmentSubject:
    equipment: str

    @property
    def subject(self) -> str:
        return f"equipment:{self.equipment}"
