"""A throwaway Tryton for tests and benchmarks, the stand-in for a plant's central ERP: create a database with
``trytond-admin``, run ``trytond`` on a port, stop and start it again, talk to it with a blocking JSON-RPC session
(:class:`TrytonSession`), and set up a small plant (company, warehouse, bins, lot-controlled products, lots with
stock, a BOM, a routing with two operations on two work centres, purchases and sales).

Needs the ``takt[tryton]`` extra (trytond 8.2 and its modules). SQLite by default; a PostgreSQL URL
(``postgresql://user@host:port/``) works too (the database must not exist yet: it is created here). The session
speaks the wire format of the product's client (:mod:`erp_sync.tryton.rpc`: typed values, gzip, errors), the
one part of the product used here, as :mod:`simulators.erp` uses the sync protocol's messages.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_incrementing

from erp_sync.tryton.rpc import JsonRpcSession, TrytonBusy, TrytonUnreachable, result_of

MODULES = ("stock", "stock_lot", "stock_lot_sled", "production", "production_routing", "production_work",
           "quality", "purchase", "sale", "stock_supply_production")
ADMIN = "admin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _bin(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: pip install 'takt[tryton]'")
    return found


class TrytonSession(JsonRpcSession):
    """A blocking JSON-RPC session, for setting up data in Tryton from tests and benchmarks. A call that meets a
    row lock (503) is tried again, up to 20 times."""

    def __init__(self, url: str, database: str, user: str, password: str, *, timeout_s: float = 60.0) -> None:
        super().__init__(url, database, user, password)
        self._http = httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def _post(self, body: bytes) -> Any:
        try:
            request = self._http.build_request("POST", self.endpoint, content=body, headers=self._headers())
            response = self._http.send(request, stream=True)
            try:
                raw = b"".join(response.iter_raw())
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise TrytonUnreachable(f"{type(exc).__name__}: {exc}") from exc
        return result_of(response.status_code, raw)

    def login(self) -> None:
        self.session = None
        self._set_session(self._post(self._body("common.db.login", self._login_params())))
        prefs = self._post(self._body("model.res.user.get_preferences", [True, {}]))
        self.context = dict(prefs) if isinstance(prefs, dict) else {}

    def call(self, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        if self.session is None:
            self.login()
        for attempt in Retrying(stop=stop_after_attempt(20), wait=wait_incrementing(start=0.05, increment=0.05),
                                retry=retry_if_exception_type(TrytonBusy), reraise=True):
            with attempt:
                return self._post(self._body(method, [*args, {**self.context, **(context or {})}]))
        raise AssertionError("unreachable")  # pragma: no cover  (reraise=True raises the last failure)

    def model(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        return self.call(f"model.{model}.{method}", *args, context=context)

    def create(self, model: str, *values: dict[str, Any]) -> list[int]:
        ids: list[int] = self.model(model, "create", list(values))
        return ids

    def search_read(self, model: str, domain: list[Any], fields: list[str], *, order: Any = None,
                    limit: int | None = None, context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.model(model, "search_read", domain, 0, limit, order, fields,
                                                context=context)
        return rows


@dataclass
class TrytonServer:
    """One database and the server process that serves it."""

    folder: Path
    database: str = "takt"
    password: str = "admin-password"
    db_uri: str | None = None  # None: SQLite in ``folder``
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.folder / "trytond.conf"

    @property
    def password_file(self) -> Path:
        return self.folder / "admin.password"

    def write_config(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        uri = self.db_uri or "sqlite://"
        path = f"path = {self.folder}\n" if self.db_uri is None else ""
        self.config.write_text(f"[database]\nuri = {uri}\n{path}\n[web]\nlisten = 127.0.0.1:{self.port}\n\n"
                               "[session]\nmax_attempt = 1000\ntimeout = 86400\n")
        self.password_file.write_text(self.password + "\n")

    def create(self) -> None:
        """Create the database and activate the modules (about 20-70 s; on SQLite once per machine, see
        :func:`_sqlite_template`)."""
        self.write_config()
        if self.db_uri is None:
            target = self.folder / f"{self.database}.sqlite"
            with _sqlite_template(self.password) as template:
                if template.exists():
                    shutil.copyfile(template, target)
                    return
                target.touch()
                self._admin()
                partial = template.with_suffix(".partial")
                shutil.copyfile(target, partial)
                partial.rename(template)  # whole or absent: a build killed halfway leaves no template
            return
        import psycopg

        with psycopg.connect(self.db_uri.rstrip("/") + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self._admin()

    def _admin(self) -> None:
        """``trytond-admin``: the database's tables, the modules activated, the admin user."""
        env = {**os.environ, "TRYTONPASSFILE": str(self.password_file)}
        result = subprocess.run(
            [_bin("trytond-admin"), "-c", str(self.config), "-d", self.database, "--all",
             "--activate-dependencies", "--email", "admin@example.com", "-u", *MODULES],
            env=env, capture_output=True, timeout=900)
        if result.returncode != 0:
            raise RuntimeError(f"trytond-admin failed: {result.stderr.decode()[-2000:]}")

    def start(self, timeout_s: float = 60) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.folder / "trytond.log", "ab")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen([_bin("trytond"), "-c", str(self.config), "-d", self.database],
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"trytond exited: {(self.folder / 'trytond.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("trytond did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def session(self) -> TrytonSession:
        s = TrytonSession(self.url, self.database, ADMIN, self.password)
        deadline = time.monotonic() + 30
        while True:
            try:
                s.login()
                return s
            except TrytonUnreachable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


@contextmanager
def _sqlite_template(password: str) -> Iterator[Path]:
    """The path of a freshly activated SQLite database of these modules, trytond version and admin password, shared
    by every test worker and benchmark on this machine, held under a file lock: the caller copies it when it exists,
    or builds it (the lock keeps the other workers waiting instead of paying trytond-admin's minute of CPU twice).
    ``TAKT_TRYTON_CACHE`` names the folder (default: the system's temporary folder)."""
    from importlib.metadata import version

    key = hashlib.sha256(repr((MODULES, version("trytond"), password, sys.version_info[:2])).encode()).hexdigest()
    folder = Path(os.environ.get("TAKT_TRYTON_CACHE") or tempfile.gettempdir()) / f"takt-tryton-{key[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder / "template.sqlite"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def running_tryton(folder: Path, *, db_uri: str | None = None, database: str = "takt") -> Iterator[TrytonServer]:
    server = TrytonServer(folder, database=database, db_uri=db_uri)
    server.create()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- a small plant ------------------------------------------------------------------------------------


@dataclass
class Plant:
    """Ids of what :func:`set_up_plant` created, by Takt code."""

    company: int
    warehouse: int
    storage: int
    production_location: int
    lost_found: int
    supplier: int
    unit: int
    bins: dict[str, int]
    products: dict[str, int]
    lots: dict[str, int]
    work_centers: dict[str, int]
    operations: dict[str, int]
    bom: int
    routing: int
    party: int


def _one(s: TrytonSession, model: str, domain: list[Any]) -> int:
    rows = s.search_read(model, domain, ["id"], limit=1)
    if not rows:
        raise LookupError(f"no {model} with {domain}")
    found: int = rows[0]["id"]
    return found


def set_up_plant(s: TrytonSession) -> Plant:
    """Company, bins A1/A2/B1 under the warehouse's storage zone, products HOUSING and SEAL (bought, lot required)
    and PUMP (made, lot required), a BOM PUMP = 1 HOUSING + 2 SEAL, a routing Assemble (ASSY) then Test (TEST) on
    line LINE-1, and a quality control PUMP-FINAL (leak tight, burst pressure 9-11) that Tryton asks for before a
    production of PUMP is done (operation ``production:do``)."""
    currency = s.create("currency.currency", {"name": "Euro", "code": "EUR", "symbol": "€", "rounding": Decimal("0.01"),
                                              "digits": 2})[0]
    party = s.create("party.party", {"name": "Takt Demo Plant"})[0]
    company = s.create("company.company", {"party": party, "currency": currency})[0]
    s.model("res.user", "write", [s.uid], {"companies": [["add", [company]]], "company": company})
    s.login()  # the context now carries the company
    warehouse = _one(s, "stock.location", [("type", "=", "warehouse")])
    wh = s.model("stock.location", "read", [warehouse], ["storage_location", "production_location",
                                                         "lost_found_location"])[0]
    storage, production_location, lost_found = wh["storage_location"], wh["production_location"], wh[
        "lost_found_location"]
    supplier = _one(s, "stock.location", [("type", "=", "supplier")])
    unit = _one(s, "product.uom", [("symbol", "=", "u")])
    bins = dict(zip(("A1", "A2", "B1"), s.create("stock.location", *[
        {"name": f"Bin {code}", "code": code, "type": "storage", "parent": storage} for code in ("A1", "A2", "B1")]),
        strict=True))
    products: dict[str, int] = {}
    for code, name, producible, price in (("HOUSING", "Pump housing", False, "12.50"),
                                          ("SEAL", "Shaft seal", False, "0.80"),
                                          ("PUMP", "Pump", True, "0")):
        template = s.create("product.template", {
            "name": name, "code": code, "type": "goods", "default_uom": unit, "producible": producible,
            "purchasable": not producible, **({} if producible else {"purchase_uom": unit}),
            "salable": producible, **({"sale_uom": unit} if producible else {}),
            "lot_required": ["storage", "production"], "list_price": Decimal(price),
            "products": [["create", [{"cost_price": Decimal(price)}]]]})[0]
        products[code] = s.search_read("product.product", [("template", "=", template)], ["id"])[0]["id"]
    category = s.create("production.work.center.category", {"name": "Assembly"}, {"name": "Testing"},
                        {"name": "Line"})
    line = s.create("production.work.center", {"name": "LINE-1", "category": category[2], "warehouse": warehouse})[0]
    work_centers = dict(zip(("ASSY", "TEST"), s.create("production.work.center", *[
        {"name": code, "category": cat, "warehouse": warehouse, "cost_price": Decimal(rate), "cost_method": "hour",
         "parent": line} for code, cat, rate in (("ASSY", category[0], "60"), ("TEST", category[1], "45"))]),
        strict=True))
    work_centers["LINE-1"] = line
    operations = dict(zip(("Assemble", "Test"), s.create("production.routing.operation", *[
        {"name": name, "work_center_category": cat} for name, cat in (("Assemble", category[0]),
                                                                      ("Test", category[1]))]), strict=True))
    bom = s.create("production.bom", {"name": "PUMP A", "inputs": [["create", [
        {"product": products["HOUSING"], "quantity": 1.0, "unit": unit},
        {"product": products["SEAL"], "quantity": 2.0, "unit": unit}]]], "outputs": [["create", [
            {"product": products["PUMP"], "quantity": 1.0, "unit": unit}]]]})[0]
    routing = s.create("production.routing", {"name": "PUMP", "boms": [["add", [bom]]], "steps": [["create", [
        {"operation": operations["Assemble"], "sequence": 10},
        {"operation": operations["Test"], "sequence": 20}]]]})[0]
    s.model("product.product", "write", [products["PUMP"]], {"boms": [["create", [
        {"bom": bom, "routing": routing}]]]})
    s.create("quality.control", {"name": "PUMP-FINAL", "product": products["PUMP"], "operations": ["production:do"],
                                 "points": [["create", [
        {"name": "leak", "string": "Leak tight", "type_": "boolean"},
        {"name": "pressure", "string": "Burst pressure", "type_": "float", "tolerance_lower": 9.0,
         "tolerance_upper": 11.0}]]]})
    return Plant(company, warehouse, storage, production_location, lost_found, supplier, unit, bins, products,
                 {}, work_centers, operations, bom, routing, party)


def add_lot(s: TrytonSession, plant: Plant, number: str, product: str, *, expiry: date | None = None) -> int:
    values: dict[str, Any] = {"number": number, "product": plant.products[product]}
    if expiry is not None:
        values["expiration_date"] = expiry
    plant.lots[number] = s.create("stock.lot", values)[0]
    return plant.lots[number]


def put_stock(s: TrytonSession, plant: Plant, lot: str, product: str, bin_code: str, quantity: Decimal) -> None:
    """Opening stock of a lot in a bin (a lost-and-found move, as an inventory would book it)."""
    move = s.create("stock.move", {
        "product": plant.products[product], "unit": plant.unit, "quantity": float(quantity), "lot": plant.lots[lot],
        "from_location": plant.lost_found, "to_location": plant.bins[bin_code], "company": plant.company,
        "effective_date": date.today()})
    s.model("stock.move", "do", move)


def release_production(s: TrytonSession, plant: Plant, quantity: Decimal, *, reference: str | None = None
                       ) -> tuple[int, str]:
    """A production of PUMP with its BOM and routing, moved to waiting (released to the floor): id and number."""
    today = date.today()
    production = s.create("production", {
        "product": plant.products["PUMP"], "bom": plant.bom, "routing": plant.routing, "quantity": float(quantity),
        "unit": plant.unit, "warehouse": plant.warehouse, "location": plant.production_location,
        "work_center": plant.work_centers["LINE-1"],
        # the moves the client explodes from the BOM (lots not known yet), as a planner's production has them
        "inputs": [["create", [
            {"product": plant.products[item], "unit": plant.unit, "quantity": float(quantity * per),
             "from_location": plant.storage, "to_location": plant.production_location, "company": plant.company}
            for item, per in (("HOUSING", 1), ("SEAL", 2))]]],
        "outputs": [["create", [
            {"product": plant.products["PUMP"], "unit": plant.unit, "quantity": float(quantity),
             "from_location": plant.production_location, "to_location": plant.storage, "company": plant.company,
             "unit_price": Decimal(0), "currency": s.model("company.company", "read", [plant.company],
                                                            ["currency"])[0]["currency"]}]]],
        "company": plant.company, "planned_start_date": today, "planned_date": today,
        **({"reference": reference} if reference else {})})[0]
    # the client fills inputs and outputs from the BOM through on_change; over RPC ask the server to do it
    s.model("production", "wait", [production])
    number: str = s.model("production", "read", [production], ["number"])[0]["number"]
    return production, number


def place_purchase(s: TrytonSession, plant: Plant, product: str, quantity: Decimal, *,
                   supplier: str = "Castings Ltd") -> tuple[int, str]:
    """A confirmed purchase of ``product`` (invoiced manually): id and number. Tryton makes its incoming move."""
    parties = s.search_read("party.party", [("name", "=", supplier)], ["id"])
    party = parties[0]["id"] if parties else s.create("party.party", {"name": supplier, "addresses": [["create", [
        {"street": "1 Foundry Road"}]]]})[0]
    address = s.search_read("party.address", [("party", "=", party)], ["id"], limit=1)[0]["id"]
    currency = s.model("company.company", "read", [plant.company], ["currency"])[0]["currency"]
    purchase = s.create("purchase.purchase", {
        "party": party, "invoice_address": address, "company": plant.company, "currency": currency,
        "warehouse": plant.warehouse,
        "invoice_method": "manual", "purchase_date": date.today(), "lines": [["create", [{
            "type": "line", "product": plant.products[product], "quantity": float(quantity), "unit": plant.unit,
            "unit_price": Decimal("10.0000")}]]]})[0]
    s.model("purchase.purchase", "quote", [purchase])
    s.model("purchase.purchase", "confirm", [purchase])
    row = s.model("purchase.purchase", "read", [purchase], ["number", "state"])[0]
    return purchase, str(row["number"])


def place_sale(s: TrytonSession, plant: Plant, quantity: Decimal, *, customer: str = "Pumps & Co",
               shipment_method: str = "order") -> tuple[int, str]:
    """A confirmed sale of PUMP (invoiced manually): id and number. Shipped ``on order`` (Tryton makes its
    customer shipment when it is confirmed) or ``manual`` (it makes none)."""
    parties = s.search_read("party.party", [("name", "=", customer)], ["id"])
    party = parties[0]["id"] if parties else s.create("party.party", {"name": customer, "addresses": [["create", [
        {"street": "2 Harbour Street"}]]]})[0]
    address = s.search_read("party.address", [("party", "=", party)], ["id"], limit=1)[0]["id"]
    currency = s.model("company.company", "read", [plant.company], ["currency"])[0]["currency"]
    sale = s.create("sale.sale", {
        "party": party, "invoice_address": address, "shipment_address": address, "company": plant.company,
        "currency": currency, "warehouse": plant.warehouse, "invoice_method": "manual",
        "shipment_method": shipment_method, "sale_date": date.today(),
        "lines": [["create", [{"type": "line", "product": plant.products["PUMP"], "quantity": float(quantity),
                               "unit": plant.unit, "unit_price": Decimal("250.0000")}]]]})[0]
    s.model("sale.sale", "quote", [sale])
    s.model("sale.sale", "confirm", [sale])
    return sale, str(s.model("sale.sale", "read", [sale], ["number"])[0]["number"])
