"""The Tryton adapter's gateway: every call to Tryton goes through it, with the retries Tryton needs, the errors
turned into the sync's terms, and the master-data lookups the bookings share (warehouse, products, bins, lots,
productions).

A call that meets a row lock (HTTP 503: Tryton rolled the transaction back) is tried again here; a call whose
answer was lost is not (it may have been committed): it raises :class:`AnswerLost` and :meth:`TrytonGateway.again`
runs the whole booking again, reading first what Tryton already has. A business refusal becomes
:class:`Refused`; Tryton out of reach for longer than the retries becomes
:class:`~erp_sync.client.CentralUnavailable`.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from edge.retry import RetryPolicy
from erp_sync.client import CentralRefused, CentralUnavailable
from erp_sync.tryton.rpc import TrytonBusy, TrytonError, TrytonForbidden, TrytonRPC, TrytonUnreachable, TrytonUserError

log = logging.getLogger("takt.sync.tryton")

RELEASED_STATES = ("waiting", "assigned", "running")
EPOCH = datetime(1970, 1, 1)
NO_WARNINGS = {"_skip_warnings": True}
MAX_RETRY_WAIT_S = 8.0  # the longest wait between two tries of a call or a booking

_T = TypeVar("_T")


class AnswerLost(Exception):
    """A call whose answer never came: Tryton is down, or the answer was lost after Tryton committed it."""


class Refused(Exception):
    """An event Tryton cannot take (as opposed to Tryton being unreachable)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def stamp_us(value: datetime) -> int:
    """A Tryton timestamp (naive UTC) as microseconds since 1970."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_stamp_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def dec(value: Any) -> Decimal:
    """A Tryton quantity as an exact Decimal (None: 0)."""
    return Decimal(str(value)).normalize() if value is not None else Decimal(0)


def opt_dec(value: Any) -> Decimal | None:
    return None if value is None else dec(value)


def qty(value: Decimal) -> float:
    """A quantity as Tryton's float fields take it."""
    return float(value)


@dataclass
class Product:
    id: int
    code: str
    unit: int
    producible: bool


@dataclass
class Production:
    id: int
    number: str
    state: str
    product: int
    location: int


class TrytonGateway:
    """Calls to one Tryton database, and the lookups the bookings share (cached for the adapter's life where
    Tryton's master data does not move under a running node: the warehouse, products, bins, the currency)."""

    def __init__(self, rpc: TrytonRPC, *, warehouse: str = "WH", retries: int = 4,
                 retry_delay_s: float = 0.5) -> None:
        self.rpc = rpc
        self.warehouse_code = warehouse
        # ``retries`` more tries after the first, waits from ``retry_delay_s`` doubling up to 8 s: for a call that
        # stays locked, and for a booking whose answer was lost
        self.policy = RetryPolicy(attempts=retries + 1, initial_s=retry_delay_s,
                                  maximum_s=max(MAX_RETRY_WAIT_S, retry_delay_s))
        self._warehouse: dict[str, int] | None = None
        self._products: dict[str, Product] = {}
        self._bins: dict[str, int] = {}
        self._currency: int | None = None

    @property
    def company(self) -> Any:
        """The company of the Tryton user's session (its id), as Tryton's records want it."""
        return self.rpc.context.get("company")

    # --- calls ----------------------------------------------------------------------------------------

    async def call(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """One call. A 503 (Tryton rolled the transaction back) is retried here with backoff; a lost answer is
        not (the call may have been committed): it raises :class:`AnswerLost` and the whole event is tried again,
        reading first what is there. A user error is raised as :class:`Refused`."""
        try:
            return await self.policy.call(
                lambda: self.rpc.call(f"model.{model}.{method}", *args, context=context), TrytonBusy)
        except TrytonUserError as err:
            raise Refused(f"TRYTON_{err.kind.upper()}", err.message) from None
        except TrytonForbidden as err:
            raise CentralRefused(403, "TRYTON_FORBIDDEN", f"{model}.{method}: {err}") from None
        except TrytonBusy as err:
            raise CentralUnavailable(f"Tryton stays locked: {err}") from None
        except TrytonUnreachable as err:
            raise AnswerLost(f"{model}.{method}: {err}") from None
        except TrytonError as err:  # a server-side failure on this call: refuse the event, keep going
            raise Refused("TRYTON_ERROR", str(err)) from None

    async def again(self, what: str, attempt: Callable[[], Awaitable[_T]]) -> _T:
        """``attempt()`` until it gets through Tryton, ``retries`` more times with backoff, then
        CentralUnavailable. ``attempt`` must read before it writes (every booking here does)."""
        try:
            return await self.policy.call(attempt, AnswerLost, what=f"Tryton unreachable ({what})")
        except AnswerLost as lost:
            raise CentralUnavailable(f"Tryton unreachable ({what}): {lost}") from None

    async def search_read(self, model: str, domain: list[Any], fields: list[str], *, limit: int | None = None,
                          order: list[list[str]] | None = None, context: dict[str, Any] | None = None
                          ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.call(model, "search_read", domain, 0, limit, order, fields,
                                                     context=context)
        return rows

    async def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.call(model, "read", ids, fields)
        return rows

    async def create(self, model: str, *values: dict[str, Any]) -> list[int]:
        ids: list[int] = await self.call(model, "create", list(values), context=NO_WARNINGS)
        return ids

    async def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None:
        await self.call(model, "write", ids, values, context=NO_WARNINGS)

    async def button(self, model: str, method: str, ids: list[int]) -> Any:
        return await self.call(model, method, ids, context=NO_WARNINGS)

    async def state(self, model: str, record: int) -> str:
        """The state a record is in now."""
        return str((await self.read(model, [record], ["state"]))[0]["state"])

    # --- master data lookups ----------------------------------------------------------------------------

    async def warehouse(self) -> dict[str, int]:
        if self._warehouse is None:
            rows = await self.search_read("stock.location", [["type", "=", "warehouse"],
                                                             ["code", "=", self.warehouse_code]],
                                          ["id", "storage_location", "production_location", "lost_found_location",
                                           "input_location", "output_location"])
            if not rows:
                raise CentralRefused(404, "UNKNOWN_WAREHOUSE", f"Tryton has no warehouse with code "
                                                               f"{self.warehouse_code}")
            r = rows[0]
            self._warehouse = {"id": r["id"], "storage": r["storage_location"], "input": r["input_location"],
                               "output": r["output_location"], "production": r["production_location"],
                               "lost_found": r["lost_found_location"]}
        return self._warehouse

    async def currency(self) -> int:
        if self._currency is None:
            company = self.company
            if company is None:
                await self.rpc.login()
                company = self.company
            rows = await self.read("company.company", [int(company)], ["currency"]) if company else []
            if not rows:
                raise CentralRefused(409, "NO_COMPANY", "the Tryton user has no company")
            self._currency = int(rows[0]["currency"])
        return self._currency

    async def product(self, code: str) -> Product:
        found = self._products.get(code)
        if found is None:
            rows = await self.search_read("product.product", [["code", "=", code]],
                                          ["id", "default_uom", "producible"], limit=1)
            if not rows:
                raise Refused("UNKNOWN_ITEM", f"Tryton has no product with code {code}", "item")
            r = rows[0]
            found = self._products[code] = Product(r["id"], code, r["default_uom"], bool(r["producible"]))
        return found

    async def bin(self, code: str) -> int:
        found = self._bins.get(code)
        if found is None:
            wh = await self.warehouse()
            rows = await self.search_read("stock.location", [["code", "=", code], ["type", "=", "storage"],
                                                             ["parent", "child_of", [wh["storage"]]]], ["id"],
                                          limit=1)
            if not rows:
                raise Refused("UNKNOWN_BIN", f"Tryton has no storage location {code} in warehouse "
                                             f"{self.warehouse_code}", "bin")
            found = self._bins[code] = int(rows[0]["id"])
        return found

    async def lot(self, number: str, product: Product, *, create: bool = False, expiry: str | None = None) -> int:
        """The id of lot ``number`` of ``product``; with ``create``, made when missing (and given the edge's
        expiry when Tryton's lot has none)."""
        rows = await self.search_read("stock.lot", [["number", "=", number], ["product", "=", product.id]],
                                      ["id", "expiration_date"], limit=1)
        if rows:
            if create and expiry and rows[0].get("expiration_date") is None:  # the edge read it off the label
                await self.write("stock.lot", [rows[0]["id"]], {
                    "expiration_date": datetime.fromisoformat(expiry).date()})
            return int(rows[0]["id"])
        if not create:
            raise Refused("UNKNOWN_LOT", f"Tryton has no lot {number} of {product.code}", "lot")
        values: dict[str, Any] = {"number": number, "product": product.id}
        if expiry:
            values["expiration_date"] = datetime.fromisoformat(expiry).date()
        return (await self.create("stock.lot", values))[0]

    async def production(self, number: str) -> Production:
        rows = await self.search_read("production", [["number", "=", number]],
                                      ["id", "state", "product", "location"], limit=1)
        if not rows:
            raise Refused("UNKNOWN_ORDER", f"Tryton has no production {number}", "work_order")
        r = rows[0]
        return Production(r["id"], number, r["state"], r["product"], r["location"])
