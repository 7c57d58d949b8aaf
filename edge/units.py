"""systemd units for a node: ``takt-node.service`` (``takt run``) and ``takt-sync.service`` (``takt sync run``).

Plain files a plant's IT can read before installing them. Both run as a dedicated system user (the command
prints the ``useradd`` line that makes it; not ``DynamicUser``, whose ids change and would orphan the store's
files), read the site file from the config dir, and may write only the data dir (``ProtectSystem=strict`` + ``ReadWritePaths``). They restart on
failure after a pause (``RestartSec``; the growing pause of ``RestartSteps``/``RestartMaxDelaySec`` needs systemd
254, so it is written commented out: Debian 12 has 252), and systemd stops restarting a unit that fails ten
times in ten minutes (``StartLimitIntervalSec``/``StartLimitBurst``) instead of spinning.

The sync unit is for a plant that runs the sync apart from the node (e.g. on the node's store while the
node's own sync section is disabled); it claims the store's writer, so it conflicts with the node unit.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

NODE_UNIT = "takt-node.service"
SYNC_UNIT = "takt-sync.service"
SITE_FILE = "site.yaml"


def takt_executable() -> Path:
    """The ``takt`` script beside the running Python (the venv's), else the one on the PATH."""
    beside = Path(sys.executable).parent / "takt"
    if beside.is_file():
        return beside.absolute()
    found = shutil.which("takt")
    return Path(found) if found else Path("/usr/local/bin/takt")


@dataclass(frozen=True)
class UnitSettings:
    user: str
    data_dir: Path
    config_dir: Path
    executable: Path

    @property
    def site_file(self) -> Path:
        return self.config_dir / SITE_FILE

    def _common(self, description: str, command: str, conflicts: str) -> str:
        return f"""\
# Written by `takt service install`. Review, then: systemctl daemon-reload && systemctl enable --now {{unit}}
[Unit]
Description={description}
Documentation=man:systemd.exec(5)
After=network-online.target
Wants=network-online.target
Conflicts={conflicts}
StartLimitIntervalSec=600
StartLimitBurst=10

[Service]
Type=simple
User={self.user}
Group={self.user}
WorkingDirectory={self.data_dir}
Environment=PYTHONUNBUFFERED=1
Environment=TAKT_CONFIG={self.site_file}
# Secrets (ERP token, passwords) stay out of the site file: put them in this root-readable file as NAME=value
# and name the variables in the site file (token_env: ...), or use token_file: with a file in {self.config_dir}.
EnvironmentFile=-{self.config_dir}/secrets.env
ExecStart={self.executable} {command}
Restart=on-failure
RestartSec=5
# systemd 254 and later can let the pause grow; uncomment there (older versions ignore them with a warning):
#RestartSteps=8
#RestartMaxDelaySec=120
TimeoutStopSec=30
KillSignal=SIGTERM
# Logs: JSON lines on stdout go to the journal (journalctl -u {{unit}}).
StandardOutput=journal
StandardError=journal
StateDirectory={self._state_directory()}
StateDirectoryMode=0750
ReadWritePaths={self.data_dir}
ReadOnlyPaths={self.config_dir}
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
PrivateDevices=false
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectControlGroups=true
ProtectClock=true
ProtectHostname=true
RestrictSUIDSGID=true
RestrictRealtime=true
RestrictNamespaces=true
LockPersonality=true
MemoryDenyWriteExecute=false
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
CapabilityBoundingSet=
AmbientCapabilities=
UMask=0027
# Serial scanners and Modbus RTU lines: the user needs the dialout group (usermod -aG dialout {self.user}).
SupplementaryGroups=dialout

[Install]
WantedBy=multi-user.target
"""

    def _state_directory(self) -> str:
        """``StateDirectory=`` is relative to /var/lib; another data dir is made by ReadWritePaths' owner."""
        parts = self.data_dir.parts
        if len(parts) > 3 and parts[:3] == ("/", "var", "lib"):
            return "/".join(parts[3:])
        return ""

    def node_unit(self) -> str:
        text = self._common("Takt edge node (MES + WMS beside the line)",
                            f"run --config {self.site_file} --data-dir {self.data_dir}", SYNC_UNIT)
        return _without_empty_state_dir(text.replace("{unit}", NODE_UNIT))

    def sync_unit(self) -> str:
        text = self._common("Takt headless sync with the central ERP (instead of the node's own sync)",
                            f"sync run --config {self.site_file} --data-dir {self.data_dir}", NODE_UNIT)
        return _without_empty_state_dir(text.replace("{unit}", SYNC_UNIT))

    def next_steps(self, unit_dir: Path) -> str:
        return (f"# next, as root:\n"
                f"#   useradd --system --home-dir {self.data_dir} --shell /usr/sbin/nologin {self.user}\n"
                f"#   install -d -o {self.user} -g {self.user} -m 0750 {self.data_dir}\n"
                f"#   install -d -m 0750 -g {self.user} {self.config_dir}   # put {SITE_FILE} there\n"
                f"#   systemctl daemon-reload && systemctl enable --now {NODE_UNIT}\n"
                f"#   takt doctor --config {self.site_file}\n"
                f"# units written to {unit_dir}")


def _without_empty_state_dir(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln not in ("StateDirectory=",)]
    if not any(ln.startswith("StateDirectory=") for ln in lines):
        lines = [ln for ln in lines if not ln.startswith("StateDirectoryMode=")]
    return "\n".join(lines) + "\n"


def write_units(settings: UnitSettings, unit_dir: Path) -> list[tuple[Path, str]]:
    """Write both units into ``unit_dir``; returns (path, content) of each."""
    unit_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in ((NODE_UNIT, settings.node_unit()), (SYNC_UNIT, settings.sync_unit())):
        path = unit_dir / name
        path.write_text(content)
        path.chmod(0o644)
        written.append((path, content))
    return written


def systemd_running() -> bool:
    """systemd is the init system here (sd_booted's test)."""
    return Path("/run/systemd/system").is_dir()


def unit_status() -> tuple[list[str], bool]:
    """A line per unit and whether the node unit is active; without systemd, a line saying so."""
    if not systemd_running() or shutil.which("systemctl") is None:
        return (["systemd does not run on this machine (no /run/systemd/system): the node is not a service here; "
                 "run it with `takt run --config FILE` under the plant's own supervisor"], False)
    lines = []
    active = False
    for unit in (NODE_UNIT, SYNC_UNIT):
        done = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True, timeout=10)
        state = done.stdout.strip() or done.stderr.strip()
        lines.append(f"{unit}: {state}")
        if unit == NODE_UNIT:
            active = state == "active"
    return lines, active
