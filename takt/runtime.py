"""The running node: store, writer and API put together from a site configuration, and served.

``Node(config).start()`` opens the store, brings its schema up to date, fixes the node id, saves the
configured users, starts the service (the one write path) and seeds the configuration's master data
and opening stock **as commands through that service**, exactly as if the ERP had sent them.

Seeding is safe to repeat on every start. Each seed command has a deterministic idempotency key
(``seed:item:PUMP-100``), so a restart replays the first answer and records nothing. When the file
itself changes, a changed item, bin, machine, inspection plan or dispatch list is sent again under a
key that includes the new content's fingerprint: the change is recorded once, and a later change
that the ERP sent is not reverted on the next restart. Released work orders and received lots are
facts once recorded; a file that disagrees with them is reported in the log and left alone.

``serve(node)`` runs the HTTP API (``takt.api.app.create_app``) with uvicorn on the configured host
and port, one worker, over HTTPS when the site gives ``api.tls`` (SIGHUP reloads the certificate,
``takt.api.transport``), and stops the writer cleanly on SIGTERM or SIGINT.
"""
from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import signal
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from connectors.process_values import HistorianSettings
from connectors.runtime import Connectivity, from_site
from edge import reference
from edge.domain import DomainError
from edge.domain import commands as c
from edge.domain.downtime import maintenance_reasons, tree_for
from edge.service import IdempotencyKeyReused, Recorded, Service
from edge.store import Store, sqlite_url
from edge.store.codec import fingerprint
from edge.store.users import forget_legacy_pin_digests, save_user
from scanners.pipeline import ScanPipeline, start_scanner_tasks
from takt.config import ConfigError, Problem, TaktConfig
from takt.config.instructions import instruction_files
from takt.maintenance_timer import long_stops_forever
from takt.scanning import scan_pipeline
from takt.shift_close import close_shifts_forever
from takt.upkeep import RetentionTimer

if TYPE_CHECKING:  # imported when the site has a sync section (httpx and the ERP clients; see Node.start)
    from erp_sync.daemon import SyncDaemon

log = logging.getLogger("takt.runtime")

SEED_ACTOR = "seed"
SEED_ROLES = frozenset({"admin", "service"})
# Refusals that mean "this is already here" for facts that cannot be redefined.
ALREADY_THERE = {"DUPLICATE_WORK_ORDER", "DUPLICATE_LOT"}


@dataclass(frozen=True)
class Seed:
    """One piece of the configuration as the command that records it."""

    path: str  # where it stands in the configuration file, e.g. master_data.items[0]
    key: str  # deterministic idempotency key, e.g. seed:item:PUMP-100
    command: c.Command
    redefinable: bool


@dataclass
class SeedReport:
    recorded: list[str] = field(default_factory=list)  # keys recorded now
    unchanged: list[str] = field(default_factory=list)  # keys already recorded earlier
    kept: list[str] = field(default_factory=list)  # differs from the file but left as recorded

    def summary(self) -> str:
        return f"{len(self.recorded)} recorded, {len(self.unchanged)} already there, {len(self.kept)} kept as recorded"


def seed_commands(config: TaktConfig) -> list[Seed]:
    """The commands that bring a store to the configuration's master data and opening stock, in order."""
    md = config.master_data
    meta: dict[str, Any] = {"actor": SEED_ACTOR, "actor_roles": SEED_ROLES, "origin": "erp"}
    seeds: list[Seed] = []

    def add(path: str, what: str, code: str, redefinable: bool, build: Callable[..., c.Command], /,
            **fields: Any) -> None:
        key = f"seed:{what}:{code}"
        seeds.append(Seed(path, key, build(idempotency_key=key, **meta, **fields), redefinable))

    for i, it in enumerate(md.items):
        add(f"master_data.items[{i}]", "item", it.item, True, c.DefineItem, item=it.item,
            description=it.description, unit=it.unit, revision=it.revision, lot_controlled=it.lot_controlled,
            gtin=it.gtin, serialised=it.serialised)
    for i, b in enumerate(md.bins):
        # The walk sequence is not in the command's fingerprint: it is in the seed's key, so a new one is recorded.
        # So are the hard putaway rules (per-item max, lot policy): a changed one is a new key as well.
        key = b.bin if b.walk_sequence is None else f"{b.bin}@walk{b.walk_sequence}"
        if b.max_per_item is not None or b.lot_policy != "mixed":
            key += f"@max{b.max_per_item}@{b.lot_policy}"
        add(f"master_data.bins[{i}]", "bin", key,
            True, c.DefineBin, bin=b.bin, zone=b.zone, capacity=b.capacity, allowed_items=tuple(b.allowed_items),
            walk_sequence=b.walk_sequence, max_per_item=b.max_per_item, lot_policy=b.lot_policy)
    for i, ls in enumerate(md.line_side_bins):
        # every rule is in the key, so a changed one is recorded again
        add(f"master_data.line_side_bins[{i}]", "line-side-bin",
            f"{ls.bin}:{ls.item}@{ls.minimum}-{ls.maximum}@{ls.pack}x{ls.kanban_bins}@{ls.source_zone}", True,
            c.DefineLineSideBin, bin=ls.bin, item=ls.item, minimum=ls.minimum, maximum=ls.maximum, pack=ls.pack,
            kanban_bins=ls.kanban_bins, source_zone=ls.source_zone)
    for i, eq in enumerate(md.equipment):
        add(f"master_data.equipment[{i}]", "equipment", eq.equipment, True, c.DefineEquipment,
            equipment=eq.equipment, workstation=eq.workstation, description=eq.description)
    plc_reasons = {m.equipment: dict(m.state.reasons) for m in config.connectivity.machines if m.state}
    for i, eq in enumerate(md.equipment):  # after every machine: when its stops raise requests, its plans
        # The reasons marked for maintenance on the machine's reason tree (the site file's downtime section) raise
        # requests as well as the machine's own request_reasons.
        tree = tree_for(config.downtime.trees(), eq.workstation,
                        config.downtime.settings(eq.equipment, eq.workstation).machine_class)
        flagged = maintenance_reasons(tree, plc_reasons.get(eq.equipment))
        if eq.maintenance is None and not flagged:
            continue
        where = f"master_data.equipment[{i}].maintenance"
        own = tuple(eq.maintenance.request_reasons) if eq.maintenance else ()
        add(where, "maintenance", eq.equipment, True, c.ConfigureMaintenance, equipment=eq.equipment,
            request_reasons=tuple(dict.fromkeys((*own, *flagged))),
            request_after_s=eq.maintenance.request_after_s if eq.maintenance else None)
        for j, pm in enumerate(eq.maintenance.plans if eq.maintenance else ()):
            add(f"{where}.plans[{j}]", "maintenance-plan", pm.plan, True, c.DefineMaintenancePlan, plan=pm.plan,
                equipment=eq.equipment, kind=pm.kind, interval=pm.interval, description=pm.description,
                blocks_start=pm.blocks_start, overdue_after_pct=pm.overdue_after_pct)
    for i, wo in enumerate(md.work_orders):
        add(f"master_data.work_orders[{i}]", "work-order", wo.work_order, False, c.ReleaseWorkOrder,
            work_order=wo.work_order, item=wo.item, item_revision=wo.item_revision, bom_revision=wo.bom_revision,
            quantity=wo.quantity, due=wo.due, overproduction_tolerance_pct=wo.overproduction_tolerance_pct,
            customer_order=wo.customer_order,
            operations=tuple(c.OperationSpec(operation=o.operation, description=o.description,
                                             workstation=o.workstation, standard_minutes=o.standard_minutes,
                                             instruction_url=o.instruction_url)
                             for o in wo.operations),
            bom=tuple(c.BomLineSpec(line=ln.line, item=ln.item, item_revision=ln.item_revision,
                                    quantity_per=ln.quantity_per) for ln in wo.bom))
    for i, dl in enumerate(md.dispatch_lists):
        add(f"master_data.dispatch_lists[{i}]", "dispatch-list", dl.workstation, True, c.SetDispatchList,
            workstation=dl.workstation,
            sequence=tuple(c.DispatchSlot(work_order=s.work_order, operation=s.operation) for s in dl.sequence))
    for i, plan in enumerate(md.inspection_plans):
        add(f"master_data.inspection_plans[{i}]", "inspection-plan", plan.plan, True, c.DefineInspectionPlan,
            plan=plan.plan, description=plan.description, item=plan.item, operation=plan.operation,
            hold_on_fail=plan.hold_on_fail, spc_nonconformance=plan.spc_nonconformance, kind=plan.kind,
            supplier=plan.supplier, sample_size=plan.sample_size, sample_by_lot_size=plan.sample_by_lot_size,
            accept_number=plan.accept_number, every_n_parts=plan.every_n_parts, every_minutes=plan.every_minutes,
            flag_overdue=plan.flag_overdue, overdue_grace_parts=plan.overdue_grace_parts,
            plausible_bands=plan.plausible_bands,
            characteristics=tuple(c.CharacteristicSpec(characteristic=ch.characteristic, kind=ch.kind,
                                                       nominal=ch.nominal, lsl=ch.lsl, usl=ch.usl, unit=ch.unit)
                                  for ch in plan.characteristics))
    for i, lot in enumerate(md.opening_stock):
        # Opening stock is the ERP's stock list at go-live: origin erp, so the sync never pushes it back.
        add(f"master_data.opening_stock[{i}]", "lot", lot.lot, False, c.ReceiveLot, lot=lot.lot, item=lot.item,
            item_revision=lot.item_revision, quantity=lot.quantity, bin=lot.bin, expiry=lot.expiry,
            supplier_lot=lot.supplier_lot, quarantine=lot.quarantine, occurred_at=lot.received_at(),
            opening_stock=True)
    if config.instructions.folder is not None:  # the site's work instruction files (issue 21)
        for path, wi in instruction_files(config.instructions.folder):
            add(f"instructions.folder/{path.name}", "work-instruction", f"{wi.item}/{wi.operation}/{wi.revision}", True,
                c.DefineWorkInstruction, item=wi.item, operation=wi.operation, revision=wi.revision,
                item_revision=wi.item_revision, title=wi.title, steps=tuple(
                    c.InstructionStepSpec(step=s.step, kind=s.kind, texts=tuple(s.texts), media=tuple(s.media),
                                          nominal=s.nominal, lsl=s.lsl, usl=s.usl, unit=s.unit, expect=s.expect,
                                          component=s.component, on_fail=s.on_fail, plan=s.plan,
                                          characteristic=s.characteristic) for s in wi.steps))
    return seeds


def seed(service: Service, config: TaktConfig, config_file: str | Path = "<config>") -> SeedReport:
    """Send the configuration's seed commands through ``service``; raises ConfigError if one is refused."""
    report = SeedReport()
    seeds = _not_yet_recorded(service, seed_commands(config), report)
    pending: list[tuple[Seed, Future[Recorded]]] = [(s, service.submit(s.command)) for s in seeds]
    for s, fut in pending:
        try:
            _note(report, s.key, fut.result(timeout=120))
        except IdempotencyKeyReused:
            if s.redefinable:
                changed = _with_key(s.command, f"{s.key}@{fingerprint(s.command)[:12]}")
                try:
                    _note(report, changed.idempotency_key, service.handle(changed, timeout=120))
                except DomainError as err:
                    raise _seed_error(config_file, s, err) from None
            else:
                log.warning("%s (%s) differs from what this node recorded; kept as recorded", s.path, s.key)
                report.kept.append(s.key)
        except DomainError as err:
            if err.code in ALREADY_THERE:
                log.warning("%s: %s; kept as recorded", s.path, err.message)
                report.kept.append(s.key)
            else:
                raise _seed_error(config_file, s, err) from None
    return report


def _not_yet_recorded(service: Service, seeds: list[Seed], report: SeedReport) -> list[Seed]:
    """The seeds the command log does not hold yet as they are; the others are noted as already there. Read from
    the command log, not through the writer: a restarted node with a large store does not wait for its state to
    load to learn that its master data is unchanged (the writer would answer the same: a replay)."""
    if not seeds:
        return seeds
    changed_keys = {s.key: f"{s.key}@{fingerprint(s.command)[:12]}" for s in seeds if s.redefinable}
    with service.store.engine.connect() as conn:
        known = service.store.lookup_commands(conn, [s.key for s in seeds] + list(changed_keys.values()))
    todo: list[Seed] = []
    for s in seeds:
        fp = fingerprint(s.command)
        same = known.get(s.key)
        if same is not None and same.fingerprint == fp:
            report.unchanged.append(s.key)
            continue
        if same is not None and not s.redefinable:
            log.warning("%s (%s) differs from what this node recorded; kept as recorded", s.path, s.key)
            report.kept.append(s.key)
            continue
        again = known.get(changed_keys.get(s.key, ""))
        if same is not None and again is not None and again.fingerprint == fingerprint(
                _with_key(s.command, changed_keys[s.key])):
            report.unchanged.append(again.idempotency_key)
            continue
        todo.append(s)
    return todo


def _with_key(command: c.Command, key: str) -> c.Command:
    return dataclasses.replace(command, idempotency_key=key)


def _note(report: SeedReport, key: str, recorded: Recorded) -> None:
    (report.unchanged if recorded.replayed else report.recorded).append(key)


def _seed_error(config_file: str | Path, s: Seed, err: DomainError) -> ConfigError:
    path = f"{s.path}.{err.field}" if err.field else s.path
    return ConfigError(config_file, [Problem(path, f"refused by the node ({err.code}): {err.message}")])



def recipes_of(config: Any) -> Callable[[str, str, int], dict[str, Decimal]]:
    """The site file's recipes as a lookup: (item, revision, operation) → parameters, the operation's own recipe
    over the item revision's recipe for every operation."""
    recipes = {(r.item, r.revision, r.operation): dict(r.parameters) for r in config.master_data.recipes}

    def lookup(item: str, revision: str, operation: int) -> dict[str, Decimal]:
        return {**recipes.get((item, revision, None), {}), **recipes.get((item, revision, operation), {})}

    return lookup

class Node:
    """One edge node built from a configuration: ``store``, ``service``, ``node_id``, ``config``."""

    def __init__(self, config: TaktConfig, *, data_dir: str | Path | None = None, database_url: str | None = None,
                 config_file: str | Path = "<config>", seed: bool = True, load_in_background: bool = False) -> None:
        self.config = config
        self.config_file = str(config_file)
        self.data_dir = Path(data_dir) if data_dir is not None else config.node.data_dir
        reference.configure(site_folder=config.reference, data_dir=self.data_dir)  # where its GS1 dictionary, ... are
        if database_url is not None:
            self.database_url = database_url
        elif config.node.database_url is not None:
            self.database_url = config.node.database_url
        else:
            self.database_url = sqlite_url(self.data_dir)
        self.seed_enabled = seed
        # serve() sets it: the API answers while the writer loads a large store (edge.service)
        self.load_in_background = load_in_background
        self.seed_report: SeedReport | None = None
        self._running = False

    # Set by start(); the API reads them (takt.api.app.NodeLike).
    store: Store
    service: Service
    node_id: str
    scans: ScanPipeline  # from the scanning section
    connectivity: Connectivity  # from the connectivity section
    sync: SyncDaemon | None = None  # from the sync section (None without one)
    retention: RetentionTimer | None = None  # while serve() runs the node

    @property
    def started(self) -> bool:
        return self._running

    def start(self) -> Node:
        if self._running:
            return self
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            Path(self.database_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        store = Store(self.database_url)
        try:
            store.migrate()
            node_id = store.node_id(self.config.node.id)
            if node_id != self.config.node.id:
                log.warning("this store belongs to node %s; the configuration says %s (the id is fixed at first start)",
                            node_id, self.config.node.id)
            forget_legacy_pin_digests(store)  # a store before migration 0017: its PINs come from the site file again
            for u in self.config.users:
                assert u.token is not None  # resolved by load_config
                save_user(store, u.user, u.name, list(u.roles), u.token, pin=u.pin, badge=u.badge,
                          language=u.language, active=u.active)
            journal = self.config.journal
            # the chain's checkpoint key: the site file's secret, else one kept in the data folder (if there is one)
            key = journal.checkpoint_key(self.data_dir, create=self.data_dir.is_dir())
            if key is None or key.in_store:
                log.warning("the journal's checkpoints are signed with %s: keep the secret outside the store "
                            "(journal.checkpoint_secret_env or _file)", key.source if key else "no key (none signed)")
            service = Service(store, node_id, checkpoint_key=key,
                              checkpoint_every=journal.checkpoint_every).start(
                load_in_background=self.load_in_background)
        except BaseException:
            store.close()
            raise
        self.store, self.service, self.node_id = store, service, node_id
        # the one scan pipeline: the API's scans, the serial scanners and the cameras, under the same authorization
        self.scans = scan_pipeline(service, store, self.config.scanning, self.config.logon)
        site = self.config.site
        self.connectivity = from_site(
            service, store, self.config.connectivity, self.data_dir, place=(site.enterprise, site.site, site.area, site.line),
            workstation_of={e.equipment: e.workstation for e in self.config.master_data.equipment},
            historian=HistorianSettings(**self.config.historian.model_dump(), node=node_id), recipes=recipes_of(self.config),
            no_data_timeout_s={m.equipment: self.config.downtime.no_data_timeout(m.equipment)
                               for m in self.config.connectivity.machines})
        if self.config.sync is not None and self.config.sync.enabled:
            # imported when used: the sync's HTTP client and ERP adapters are no part of a node without one
            from erp_sync.daemon import SyncDaemon

            self.sync = SyncDaemon(service, self.config.sync, node_id,
                                   replenish_ahead=self.config.warehouse.replenish_ahead_on_release)
        self._running = True
        if self.seed_enabled:
            try:
                self.seed_report = seed(service, self.config, self.config_file)
            except BaseException:
                self.stop()
                raise
            log.info("seeded from %s: %s", self.config_file, self.seed_report.summary())
        return self

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        self.service.stop()
        self.store.close()

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url_host(self) -> str:
        host = self.config.api.host
        return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def start_file_drop(node: Node) -> list[asyncio.Task[None]]:
    """The B2MML file drop's tasks (inside the running loop), from the site's ``b2mml`` section."""
    section = node.config.b2mml
    if section is None:
        return []
    # imported when used: the B2MML schemas' validator (xmlschema) is no part of a node without a file drop
    from erp_sync.b2mml_filedrop import inbox_task, outbox_task

    tasks: list[asyncio.Task[None]] = []
    if section.inbox is not None:
        section.inbox.mkdir(parents=True, exist_ok=True)
        workstations = {w.workstation for w in node.config.site.workstations} or None
        tasks.append(asyncio.create_task(inbox_task(node.service, section.inbox, interval=section.interval_s,
                                                    dispatch=section.dispatch, workstations=workstations,
                                                    locations=section.locations,
                                                    personnel_classes=section.personnel_classes),
                                         name="b2mml-inbox"))
    if section.outbox is not None:
        section.outbox.mkdir(parents=True, exist_ok=True)
        outbox = section.outbox

        async def outbox_forever() -> None:
            while True:  # a failed round (a full disk) is logged and tried again, never ends the node
                try:
                    await outbox_task(node.store, node.node_id, outbox, interval=section.interval_s)
                except Exception:
                    log.exception("B2MML outbox round failed; retrying")
                    await asyncio.sleep(section.interval_s)

        tasks.append(asyncio.create_task(outbox_forever(), name="b2mml-outbox"))
    return tasks


class _Terminated(Exception):
    """SIGTERM arrived: unwind so the writer is stopped cleanly."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


def tune_gc() -> None:
    """Keep the cycle collector's pauses short on a busy node.

    What start-up built (state cache, app, imports) is moved out of the collector's sight, and so, after every full
    collection, is what survived it: the node's long-lived state, which grows with the plant (lots, orders, the
    idempotency keys of the day). Otherwise each full collection walks all of it: 50-160 ms with the event loop held,
    measured at a few hundred thousand objects, and longer as the state grows. The young generation is larger than
    the default (700 allocations, a collection every few requests for nothing) but small enough that its
    collections stay around a millisecond or two. Frozen objects are still freed by reference counting; only a
    reference cycle among objects that had already survived a full collection is left uncollected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


def _freeze_after_full_collection(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def _tls_context(node: Node) -> ssl.SSLContext | None:
    """The server's TLS context from ``api.tls`` (None without it); a file it cannot use is a ConfigError."""
    from takt.api.transport import server_context

    tls = node.config.api.tls
    if tls is None:
        return None
    try:
        return server_context(tls)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(node.config_file, [Problem("api.tls", str(exc))]) from None


def serve(node: Node, *, host: str | None = None, port: int | None = None,
          on_started: Callable[[Node], None] | None = None) -> None:
    """Start ``node`` (if needed) and serve its API until SIGINT/SIGTERM; then stop the node cleanly.

    ``on_started`` is called once the socket listens. uvicorn handles the signal first (it finishes
    open requests), then hands it back to us.
    """
    # imported when serving: the web server and the API's routes (FastAPI) are no part of a node that does not
    # serve (the headless `takt sync run`, tools and tests that record through a Node)
    import uvicorn

    from takt.api.app import create_app
    from takt.api.transport import HeadLimitedProtocol, reload_certificate

    class Server(uvicorn.Server):
        tls_context: ssl.SSLContext | None = None

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            node.service.request_load()  # the API listens: the writer loads the state now (edge.service)
            if self.started and not self.should_exit:
                self.device_tasks = start_scanner_tasks(node.scans, node.config.scanning)
                node.connectivity.start()  # PLC connectors: supervised tasks in this loop
                if node.sync is not None:
                    node.sync.start()  # push and pull with the central systems
                self.file_drop = start_file_drop(node)  # B2MML inbox/outbox, when configured
                self.file_drop.append(asyncio.create_task(  # ended shifts' OEE recorded for the ERP
                    close_shifts_forever(node.service, node.store, node.config), name="shift-close"))
                self.file_drop.append(asyncio.create_task(  # stops longer than a machine's threshold reach maintenance
                    long_stops_forever(node.service), name="maintenance-long-stops"))
                node.retention = RetentionTimer(node)  # archives and compacts as retention: says
                node.retention.start()
                if app.state.directory is not None:  # directory users: synced at start and every refresh_minutes
                    self.file_drop.append(asyncio.create_task(app.state.directory.refresh_forever(node.store),
                                                              name="directory"))
            tls, context = node.config.api.tls, self.tls_context
            if self.started and not self.should_exit and tls is not None and context is not None and in_main:
                asyncio.get_running_loop().add_signal_handler(  # kill -HUP: a renewed certificate
                    signal.SIGHUP, lambda: reload_certificate(context, tls))
            if self.started and not self.should_exit and on_started is not None:
                on_started(node)

        async def shutdown(self, sockets: Any = None) -> None:
            app.state.live.close()  # end the live event streams, or uvicorn would wait for them
            if node.retention is not None:
                await node.retention.stop()
            await node.connectivity.stop()
            if node.sync is not None:
                await node.sync.stop()
            for task in getattr(self, "file_drop", []):
                task.cancel()
            await super().shutdown(sockets)

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        tls_context = _tls_context(node)
        if not node.started:
            node.load_in_background = True
        node.start()
        app = create_app(node)
        tune_gc()
        api = node.config.api
        config = uvicorn.Config(app, host=host or api.host, port=api.port if port is None else port,
                                log_level="warning", workers=1, access_log=False, lifespan="on",
                                http=HeadLimitedProtocol.limited(api.max_header_bytes),  # 431 above the limit
                                ssl_context_factory=(lambda _config, _default: tls_context) if tls_context else None)
        server = Server(config)
        server.tls_context = tls_context
        server.run()
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the shutdown short
        node.stop()
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
    log.info("node stopped")
