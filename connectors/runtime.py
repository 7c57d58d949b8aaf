"""Connectivity of a running node: one supervised task per device (OPC UA, Modbus, S7, Logix, MQTT, Sparkplug).

Their samples are fed to the signal mapping (and the MQTT publisher when configured), and their health for ``/health``."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import Connector, Sample, supervise
from connectors.config import ConnectivitySection
from connectors.inspections import MachineInspector
from connectors.mapping import SignalMapper
from connectors.metrics import ConnectivityCollector
from connectors.process_values import HistorianSettings, ProcessValueLog
from connectors.setpoints import Recipes, SetpointDownloads
from edge.service import Service
from edge.store import Store

if TYPE_CHECKING:  # the MQTT publishers (paho) are imported when the site has an mqtt section
    from connectors.mqtt import MqttPublisher
    from connectors.sparkplug import SparkplugPublisher

log = logging.getLogger("takt.connectors")


class Connectivity:
    """Build with the node's service and store; ``start()`` inside the node's event loop; ``stop()`` at the end."""

    def __init__(self, service: Service, store: Store, section: ConnectivitySection, *,
                 data_dir: str | Path | None = None, namespace: Any = None,
                 historian: HistorianSettings | None = None, recipes: Recipes | None = None,
                 no_data_timeout_s: Mapping[str, float] | None = None) -> None:
        self.section = section
        folder = Path(data_dir) if data_dir is not None else None
        self.mapper = SignalMapper(service, store, section.machines,
                                   state_file=folder / "counters.json" if folder is not None else None,
                                   no_data_timeout_s=no_data_timeout_s, link_up=self._link_up)
        self.connectors: list[Connector] = []
        if section.opcua:  # imported when used: asyncua alone takes a second to import, a node starts in three
            from connectors.opcua import OpcUaConnector

            self.connectors += [OpcUaConnector(s, data_dir=folder) for s in section.opcua]
        if section.modbus:
            from connectors.modbus import ModbusConnector, serial_lines

            lines = serial_lines(section.modbus)  # devices on one RTU line share its port
            self.connectors += [ModbusConnector(d, lines[d.serial.port] if d.serial else None)
                                for d in section.modbus]
        if section.s7:
            from connectors.s7 import S7Connector

            self.connectors += [S7Connector(p) for p in section.s7]
        if section.logix:
            from connectors.logix import LogixConnector

            self.connectors += [LogixConnector(c) for c in section.logix]
        if section.mqtt_sources:
            from connectors.mqtt_source import MqttSourceConnector

            self.connectors += [MqttSourceConnector(s) for s in section.mqtt_sources]
        if section.sparkplug_sources:
            from connectors.sparkplug_in import SparkplugSourceConnector

            self.connectors += [SparkplugSourceConnector(s) for s in section.sparkplug_sources]
        self.mqtt: MqttPublisher | None = None
        if section.mqtt is not None and namespace is not None and folder is not None:
            from connectors.mqtt import MqttPublisher

            m = section.mqtt
            self.mqtt = MqttPublisher(namespace, host=m.host, port=m.port, buffer_file=folder / "mqtt-outbox.sqlite",
                                      client_id=m.client_id or "takt-edge", username=m.username,
                                      password=m.password, ca_certs=m.ca_certs)
            service.on_recorded(self.mqtt.publish_events)
        self.sparkplug: SparkplugPublisher | None = None
        if section.mqtt is not None and section.mqtt.sparkplug is not None:
            from connectors.sparkplug import SparkplugPublisher

            m, spb = section.mqtt, section.mqtt.sparkplug
            self.sparkplug = SparkplugPublisher(
                spb.group_id, spb.edge_node_id, host=m.host, port=m.port, username=m.username, password=m.password,
                ca_certs=m.ca_certs, client_id=f"{m.client_id or 'takt-edge'}-spb",
                devices={machine.device: machine.equipment for machine in section.machines})
        self.process_values: ProcessValueLog | None = None  # when any are configured
        if any(m.process_values for m in section.machines):
            pv_folder = historian.folder if historian is not None and historian.folder is not None else folder
            if pv_folder is not None:
                pv_folder.mkdir(parents=True, exist_ok=True)
            self.process_values = ProcessValueLog(
                pv_folder / "process-values.sqlite" if pv_folder is not None else ":memory:", section.machines,
                historian)  # the site's historian: section
        self.inspector: MachineInspector | None = None  # when machines measure inspections
        if self.process_values is not None and any(m.inspections for m in section.machines):
            self.inspector = MachineInspector(service, self.process_values, section.machines,
                                              self.mapper.operation_in_progress)
        self.setpoints: SetpointDownloads | None = None  # when machines take setpoints
        if any(m.setpoints is not None for m in section.machines):
            writers = {c.name: c for c in self.connectors if hasattr(c, "write_setpoints")}
            self.setpoints = SetpointDownloads(service, store, section.machines, writers,  # type: ignore[arg-type]
                                               recipes)
        self._tasks: list[asyncio.Task[None]] = []

    def _link_up(self, device: str) -> bool:
        return any(c.health.connected for c in self.connectors if c.name == device)

    async def _sink(self, batch: Sequence[Sample]) -> None:
        if self.mqtt is not None:
            await self.mqtt(batch)
        if self.sparkplug is not None:
            self.sparkplug.publish(batch)
        await self._source_sink(batch)

    async def _source_sink(self, batch: Sequence[Sample]) -> None:
        if self.process_values is not None:
            await self.process_values.offer(batch)  # queued for the historian's writer thread: never the disk
        await self.mapper(batch)
        if self.setpoints is not None:
            await self.setpoints.observe(batch)

    def start(self) -> None:
        if self._tasks:
            return
        if self.mqtt is not None:
            self.mqtt.start()
        if self.sparkplug is not None:
            self.sparkplug.start()
        if self.process_values is not None:
            self.process_values.start()
        # Values that came from MQTT are not published back to MQTT (a source subscribed to the node's own
        # namespace would loop); they only feed the signal mapping.
        self._tasks = [asyncio.create_task(
            supervise(c, self._source_sink if c.health.kind in ("mqtt-source", "sparkplug-source") else self._sink),
            name=f"connector-{c.name}") for c in self.connectors]
        if self.inspector is not None:
            self._tasks.append(asyncio.create_task(self.inspector.run(), name="machine-inspections"))
        if self.mapper.no_data_timeout_s:
            self._tasks.append(asyncio.create_task(self.mapper.watch(), name="machine-no-data"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []
        await self.mapper.drain()
        if self.mqtt is not None:
            self.mqtt.stop()
        if self.sparkplug is not None:
            self.sparkplug.stop()
        if self.process_values is not None:
            self.process_values.stop()  # writes what is queued
            try:
                self.process_values.prune()
            except Exception as exc:  # a full disk: the values stay landed and are consolidated at the next start
                log.error("historian: retention at the stop failed (%s: %s)", type(exc).__name__, exc)

    def collector(self) -> ConnectivityCollector:
        """A Prometheus collector of the connectors' and the signal mapping's numbers (for ``/metrics``)."""
        def healths() -> list[Any]:
            found = [c.health for c in self.connectors]
            found += [self.mqtt.health] if self.mqtt is not None else []
            return found + ([self.sparkplug.health] if self.sparkplug is not None else [])

        historian = self.process_values.health if self.process_values is not None else None
        return ConnectivityCollector(healths, lambda: self.mapper.stats, historian)

    def health(self) -> dict[str, Any]:
        """Per connector: connected, reconnects, values, last value age; and the mapping's counts."""
        parts: dict[str, Any] = {c.name: c.health.as_dict() for c in self.connectors}
        if self.mqtt is not None:
            parts["mqtt"] = {**self.mqtt.health.as_dict(), "buffered": self.mqtt.buffered}
        if self.sparkplug is not None:
            parts["sparkplug"] = {**self.sparkplug.health.as_dict(), "bd_seq": self.sparkplug.bd_seq,
                                  "births": self.sparkplug.births}
        s = self.mapper.stats
        parts["signal_mapping"] = {"commands": s.commands, "refused": s.refused, "booked_good": s.booked_good,
                                   "booked_scrap": s.booked_scrap, "unassigned": s.unassigned,
                                   "unbooked": s.unbooked, "resets": s.resets,
                                   "rollovers": s.rollovers, "last_error": s.last_error}
        if self.process_values is not None:
            parts["process_values"] = self.process_values.health()
        if self.setpoints is not None:
            parts["setpoints"] = {"downloads": self.setpoints.downloads, "variances": self.setpoints.variances,
                                  "last_error": self.setpoints.last_error}
        if self.inspector is not None:
            i = self.inspector.stats
            parts["machine_inspections"] = {"recorded": i.recorded, "nonconformances": i.nonconformances,
                                            "skipped": i.skipped, "refused": i.refused, "last_error": i.last_error}
        return parts


def from_site(service: Service, store: Store, section: ConnectivitySection, data_dir: str | Path, *,
              place: tuple[str, str, str, str], workstation_of: Mapping[str, str],
              historian: HistorianSettings | None = None, recipes: Recipes | None = None,
              no_data_timeout_s: Mapping[str, float] | None = None) -> Connectivity:
    """The node's connectivity from the site's ``connectivity`` section, the site's place in the unified namespace
    (enterprise, site, area, line), the workstation of each piece of equipment and how the historian writes."""
    from connectors.mqtt import Namespace

    folder = Path(data_dir)
    if section.mqtt is not None:
        folder.mkdir(parents=True, exist_ok=True)
    namespace = Namespace(*place, {
        m.device: (workstation_of.get(m.equipment, "unassigned"), m.equipment) for m in section.machines})
    return Connectivity(service, store, section, data_dir=folder, namespace=namespace, historian=historian,
                        recipes=recipes, no_data_timeout_s=no_data_timeout_s)
