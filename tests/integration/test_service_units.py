"""`takt service install` writes systemd units that systemd accepts and that name the right paths."""
from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge.units import NODE_UNIT, SYNC_UNIT, systemd_running
from takt.cli import app


def _install(tmp_path: Path, *extra: str) -> tuple[Path, str]:
    units = tmp_path / "units"
    out = CliRunner().invoke(app, ["service", "install", "--unit-dir", str(units), "--user", "mes",
                                   "--data-dir", "/srv/takt/data", "--config-dir", "/opt/takt/etc", *extra])
    assert out.exit_code == 0, out.output
    return units, out.output


def _parse(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(path)
    return parser


def test_units_name_the_user_the_paths_and_the_commands(tmp_path: Path) -> None:
    units, output = _install(tmp_path, "--takt", "/opt/takt/venv/bin/takt")
    node, sync = _parse(units / NODE_UNIT), _parse(units / SYNC_UNIT)
    assert f"# --- {units / NODE_UNIT}" in output and f"# --- {units / SYNC_UNIT}" in output
    assert "ExecStart=/opt/takt/venv/bin/takt run --config /opt/takt/etc/site.yaml" in output  # printed as written
    for unit in (node, sync):
        s = unit["Service"]
        assert s["User"] == "mes" and s["Group"] == "mes"
        assert s["WorkingDirectory"] == "/srv/takt/data"
        assert s["ReadWritePaths"] == "/srv/takt/data"
        assert s["ReadOnlyPaths"] == "/opt/takt/etc"
        assert s["ProtectSystem"] == "strict" and s["NoNewPrivileges"] == "true"
        assert s["Restart"] == "on-failure" and int(s["RestartSec"]) >= 1
        assert int(unit["Unit"]["StartLimitBurst"]) > 1 and int(unit["Unit"]["StartLimitIntervalSec"]) > 0
        assert "StateDirectory" not in s, "StateDirectory is only for a data dir under /var/lib"
        assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert node["Service"]["ExecStart"] == ("/opt/takt/venv/bin/takt run --config /opt/takt/etc/site.yaml "
                                            "--data-dir /srv/takt/data")
    assert sync["Service"]["ExecStart"] == ("/opt/takt/venv/bin/takt sync run --config /opt/takt/etc/site.yaml "
                                            "--data-dir /srv/takt/data")
    assert node["Unit"]["Conflicts"] == SYNC_UNIT and sync["Unit"]["Conflicts"] == NODE_UNIT
    assert "useradd --system" in output


def test_the_default_data_dir_is_a_state_directory(tmp_path: Path) -> None:
    units = tmp_path / "units"
    out = CliRunner().invoke(app, ["service", "install", "--unit-dir", str(units)])
    assert out.exit_code == 0, out.output
    s = _parse(units / NODE_UNIT)["Service"]
    assert s["StateDirectory"] == "takt" and s["ReadWritePaths"] == "/var/lib/takt"
    assert s["ExecStart"].endswith("run --config /etc/takt/site.yaml --data-dir /var/lib/takt")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed here (the INI checks above still ran)")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    units = tmp_path / "units"
    executable = tmp_path / "takt"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)  # systemd-analyze checks that ExecStart names an executable
    out = CliRunner().invoke(app, ["service", "install", "--unit-dir", str(units), "--takt", str(executable)])
    assert out.exit_code == 0, out.output
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", f"./{NODE_UNIT}", f"./{SYNC_UNIT}"],
                          cwd=units, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Unknown key" not in done.stderr and "Failed" not in done.stderr, done.stderr


def test_status_says_when_systemd_does_not_run() -> None:
    out = CliRunner().invoke(app, ["service", "status"])
    if systemd_running():
        assert NODE_UNIT in out.output
    else:
        assert out.exit_code == 1
        assert "systemd does not run on this machine" in out.output
