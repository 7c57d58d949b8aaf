"""Prometheus metrics of the node's machine connectivity: per connector values, reads, errors, reconnects, age.

A custom collector: the numbers live in each connector's ``Health`` (plain integers the connectors bump on their
hot paths) and in the signal mapping's statistics; they are read only when ``/metrics`` is scraped.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from connectors.base import Health


class ConnectivityCollector(Collector):
    """Collects ``healths()`` (each connector's and the MQTT publisher's) and ``mapping()`` (the signal
    mapping's statistics) at scrape time."""

    def __init__(self, healths: Callable[[], Sequence[Health]], mapping: Callable[[], Any] | None = None,
                 historian: Callable[[], dict[str, Any]] | None = None) -> None:
        self.healths = healths
        self.mapping = mapping
        self.historian = historian  # connectors.process_values.ProcessValueLog.health

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        labels = ["connector", "kind"]

        def counter(name: str, text: str) -> CounterMetricFamily:
            return CounterMetricFamily(name, text, labels=labels)

        def gauge(name: str, text: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, text, labels=labels)

        values = counter("takt_connector_values", "Values received from the device (all qualities)")
        bad = counter("takt_connector_bad_values", "Values received with bad quality")
        reads = counter("takt_connector_reads", "Read requests and polls sent to the device")
        failed = counter("takt_connector_failed_reads", "Reads without a usable answer (timeout, exception, "
                                                        "garbled frame)")
        restarts = counter("takt_connector_errors", "Connector runs that ended in an error and were retried")
        reconnects = counter("takt_connector_reconnects", "Connections made again after the first")
        connected = gauge("takt_connector_connected", "1 while the connector is connected to its device")
        age = gauge("takt_connector_last_value_age_seconds", "Seconds since the last value (NaN: none yet)")
        now = time.monotonic()
        for h in self.healths():
            key = [h.name, h.kind]
            values.add_metric(key, h.values)
            bad.add_metric(key, h.bad_values)
            reads.add_metric(key, h.reads)
            failed.add_metric(key, h.failed_reads)
            restarts.add_metric(key, h.restarts)
            reconnects.add_metric(key, h.reconnects)
            connected.add_metric(key, 1 if h.connected else 0)
            age.add_metric(key, math.nan if h.last_value_at is None else now - h.last_value_at)
        yield from (values, bad, reads, failed, restarts, reconnects, connected, age)
        if self.historian is not None:
            yield from _historian(self.historian())
        if self.mapping is None:
            return
        s = self.mapping()
        commands = CounterMetricFamily("takt_signal_commands", "Commands made from machine signals, by outcome",
                                       labels=["outcome"])
        commands.add_metric(["recorded"], s.commands)
        commands.add_metric(["refused"], s.refused)
        yield commands
        booked = CounterMetricFamily("takt_signal_parts", "Parts booked from machine counters", labels=["kind"])
        booked.add_metric(["good"], s.booked_good)
        booked.add_metric(["scrap"], s.booked_scrap)
        booked.add_metric(["unassigned"], s.unassigned)
        booked.add_metric(["unbooked"], s.unbooked)
        yield booked
        events = CounterMetricFamily("takt_signal_counter_events", "Counter resets and rollovers seen",
                                     labels=["event"])
        events.add_metric(["reset"], s.resets)
        events.add_metric(["rollover"], s.rollovers)
        yield events


def _historian(h: dict[str, Any]) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
    """The historian's queue and counts (``ProcessValueLog.health()``)."""
    yield CounterMetricFamily("takt_historian_stored_values", "Process values written by the historian",
                              value=h["kept"])
    dropped = CounterMetricFamily("takt_historian_dropped_values", "Process values the overflow policy dropped",
                                  labels=["reason"])
    dropped.add_metric(["queue_full"], h["dropped"])
    dropped.add_metric(["overflow_deadband"], h["dropped_in_overflow_deadband"])
    yield dropped
    yield GaugeMetricFamily("takt_historian_queue_values", "Process values queued and not yet written",
                            value=h["queued"])
    age = h["oldest_queued_age_s"]
    yield GaugeMetricFamily("takt_historian_queue_oldest_age_seconds", "Age of the oldest queued process value "
                            "(0: none queued)", value=0.0 if age is None else age)
    yield CounterMetricFamily("takt_historian_blocked_seconds", "Seconds sources waited for room in the queue",
                              value=h["blocked_s"])
    yield CounterMetricFamily("takt_historian_write_errors", "Writes of the historian that failed (retried)",
                              value=h["write_errors"])
    yield CounterMetricFamily("takt_historian_refused_values", "Process values refused while the historian's disk "
                              "was full", value=h.get("refused", 0))
    yield GaugeMetricFamily("takt_historian_disk_full", "1 while the historian's disk is full (new values refused)",
                            value=1.0 if h.get("state") == "disk_full" else 0.0)
    forward = h.get("forward")
    if forward is not None:
        yield CounterMetricFamily("takt_historian_forwarded_values", "Process values forwarded to the PostgreSQL "
                                  "target (since the node started)", value=forward["forwarded"])
        yield GaugeMetricFamily("takt_historian_forward_waiting_values", "Process values landed and not yet "
                                "forwarded to the PostgreSQL target", value=forward.get("waiting", 0))
        yield GaugeMetricFamily("takt_historian_forward_connected", "1 while the PostgreSQL target is reachable",
                                value=1.0 if forward["state"] == "connected" else 0.0)
