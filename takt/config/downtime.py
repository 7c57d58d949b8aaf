"""The site file's ``downtime`` section: reason trees per workstation or machine class, and how each machine's
stops are classified (micro-stop threshold, no-data timeout, machine class).

```yaml
downtime:
  micro_stop_s: 60          # a stop shorter than this is a micro-stop (performance loss, never prompted)
  no_data_timeout_s: 30     # a connector silent or bad this long opens a "no data" stop
  machines:
    M-PRESS: {micro_stop_s: 20, machine_class: press}
  reason_trees:
    - name: assembly
      workstations: [WS-10, WS-20]
      reasons:
        - code: mechanical
          text: {en: Mechanical, nl: Mechanisch}
          children:
            - code: belt_jam
              text: {en: Belt jam, nl: Band vast}
              maintenance: true
              plc_codes: [3]
        - code: break
          text: {en: Break, nl: Pauze}
          planned: true
          loss: planned
```
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edge.domain.downtime import MachineSettings, ReasonNode, ReasonTree, check_tree
from edge.fields import Code, Text
from takt.config.section import Section

Loss = Literal["availability", "performance", "quality", "planned"]


class ReasonEntry(Section):
    code: Code
    text: dict[Literal["en", "nl"], Text] = Field(description="the reason's text per language (en required)")
    children: list[ReasonEntry] = []
    planned: bool = False
    loss: Loss | None = Field(default=None, description="the OEE loss; default: planned for a planned reason, "
                              "else availability")
    maintenance: bool = Field(default=False, description="a stop on this reason raises a maintenance request")
    plc_codes: list[int] = Field(default=[], description="the PLC's reason codes that mean this reason")

    def node(self) -> ReasonNode:
        return ReasonNode(self.code, {str(k): v for k, v in self.text.items()}, tuple(c.node() for c in self.children), self.planned,
                          self.loss or ("planned" if self.planned else "availability"), self.maintenance,
                          tuple(self.plc_codes))


class ReasonTreeEntry(Section):
    name: Code
    workstations: list[Code] = []
    machine_class: Code | None = None
    reasons: list[ReasonEntry] = Field(min_length=1)

    def tree(self) -> ReasonTree:
        return ReasonTree(self.name, tuple(r.node() for r in self.reasons), frozenset(self.workstations),
                          self.machine_class)

    @model_validator(mode="after")
    def _valid_tree(self) -> ReasonTreeEntry:
        check_tree(self.tree())
        return self


def _leaf(code: str, en: str, nl: str, **kw: object) -> ReasonNode:
    return ReasonNode(code, {"en": en, "nl": nl}, **kw)  # type: ignore[arg-type]


# The tree of a machine for which the site file names none (the six reasons the terminal used to offer).
DEFAULT_TREE = ReasonTree("default", (
    ReasonNode("machine", {"en": "Machine", "nl": "Machine"}, children=(
        _leaf("jam", "Jam", "Vastloper"), _leaf("tooling", "Tooling", "Gereedschap"),
        _leaf("breakdown", "Breakdown", "Storing", maintenance=True))),
    ReasonNode("flow", {"en": "Material flow", "nl": "Materiaalstroom"}, children=(
        _leaf("starved", "No material", "Geen materiaal"), _leaf("blocked", "Output blocked", "Afvoer geblokkeerd"))),
    _leaf("maintenance", "Maintenance", "Onderhoud", planned=True, loss="planned"),
    _leaf("other", "Other", "Anders"),
))


class MachineDowntime(Section):
    micro_stop_s: float | None = Field(default=None, gt=0, le=3600)
    no_data_timeout_s: float | None = Field(default=None, gt=0, le=86_400)
    machine_class: Code | None = None


class DowntimeSection(Section):
    micro_stop_s: float = Field(default=60.0, gt=0, le=3600)
    no_data_timeout_s: float = Field(default=30.0, gt=0, le=86_400)
    machines: dict[str, MachineDowntime] = {}
    reason_trees: list[ReasonTreeEntry] = []

    def trees(self) -> list[ReasonTree]:
        """The site's trees; a machine none of them covers gets ``DEFAULT_TREE``."""
        return [t.tree() for t in self.reason_trees] + [DEFAULT_TREE]

    def settings(self, equipment: str, workstation: str | None) -> MachineSettings:
        m = self.machines.get(equipment)
        return MachineSettings(micro_stop_s=m.micro_stop_s if m and m.micro_stop_s else self.micro_stop_s,
                               workstation=workstation, machine_class=m.machine_class if m else None)

    def no_data_timeout(self, equipment: str) -> float:
        m = self.machines.get(equipment)
        return m.no_data_timeout_s if m and m.no_data_timeout_s else self.no_data_timeout_s
