"""The site configuration's scanning section: label patterns and devices, checked when the file loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.domain.scans import LabelPatterns
from takt.config import ConfigError, load_config, parse_config

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def test_demo_scanning_section_loads_and_its_patterns_classify() -> None:
    cfg = load_config(DEMO)
    patterns = LabelPatterns({str(kind): pattern for kind, pattern in cfg.scanning.label_patterns.items()})
    label = patterns.classify("WO:WO-1001")
    assert label is not None and (label.kind, label.value) == ("work_order", "WO-1001")
    (terminal,) = cfg.scanning.devices
    assert (terminal.device, terminal.bin, terminal.serial) == ("WS-20-terminal", "LS-20", None)


@pytest.mark.parametrize(("section", "path", "reason"), [
    ("scanning:\n  label_patterns:\n    lot: '('\n", "scanning", "invalid regular expression"),
    ("scanning:\n  label_patterns:\n    pallet: 'P.*'\n", "scanning.label_patterns", "pallet"),
    ("scanning:\n  devices:\n    - {device: S1, serial: {port: /dev/ttyACM0, suffix: NUL}}\n",
     "scanning.devices[0].serial.suffix", "CR"),
])
def test_a_bad_scanning_section_names_the_path_and_reason(section: str, path: str, reason: str) -> None:
    base = DEMO.read_text(encoding="utf-8").split("\nscanning:")[0]
    with pytest.raises(ConfigError) as caught:
        parse_config(base + "\n" + section, "site.yaml", base_dir=DEMO.parent)
    text = str(caught.value)
    assert path in text and reason in text, text
