"""Siemens S7 client connector (python-snap7, PUT/GET over ISO-on-TCP): poll groups, PDU-sized multi-variable reads.

Each poll group is read on its own fixed-rate schedule (a late cycle is skipped, never bunched up), as the Modbus
connector does. Tags of a group in the same area (the same DB, or M, I, Q) that lie close together (``max_gap``
bytes) are merged into one block; blocks are packed into multi-variable read requests as many as the negotiated
PDU size allows (request: 14 bytes + 12 per item; answer: 14 bytes + 4 per item + the data, items padded to even
lengths; at most 20 items a request, the S7 limit).

The PLC answers each item of a request on its own: an item it refuses (an address past the end of a DB, a DB
that does not exist, an optimised DB) makes only that item's tags bad, with the reason by name. A refused block
that merged several tags is split: the next cycle reads each of its tags as its own item, and from then on the
refused ones stay alone while the others are merged again, so a wrong address costs only its own tag. A DB with optimised block access (S7-1200/1500) has no absolute addresses: the
PLC refuses any PUT/GET read of it, and the refusal says so and points to OPC UA.

A request without an answer within ``timeout_s`` (or a closed socket) ends the run, and the supervisor
reconnects after its backoff: an S7 connection carries one request at a time, and after a lost answer its
sequence is no longer trusted.

The multi-variable request is built with snap7's own protocol encoder and sent on its asyncio client
(``AsyncClient``); its public ``read_multi_vars`` reads item by item, which would cost a round trip per block.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from snap7.async_client import AsyncClient
from snap7.error import S7ConnectionError, S7Error, S7TimeoutError
from snap7.type import Area
from snap7.util import get_date_time_object, get_dtl

from connectors.base import Health, Sample, Sink, WrittenValue, run_poll_groups
from connectors.config import S7Plc, S7PollGroup, S7Tag

log = logging.getLogger("takt.connectors.s7")
logging.getLogger("snap7").setLevel(logging.CRITICAL)  # refused reads are reported as bad quality instead

MAX_ITEMS = 20  # items per multi-variable read (S7 protocol limit)
REQUEST_HEADER = 14  # S7 header (10) + function and item count (2) + 2 spare, per request
ITEM_SPEC = 12  # per item in a request
ANSWER_HEADER = 14  # S7 ack-data header (12) + function and item count (2)
ITEM_HEADER = 4  # per item in an answer: return code, transport size, length
AREAS = {"I": 0x81, "Q": 0x82, "M": 0x83, "DB": 0x84}

# Item return codes (S7 protocol) and what they mean for the tag.
_REFUSALS = {0x01: "hardware error", 0x03: "access to the object not allowed", 0x05: "address out of range",
             0x06: "data type not supported", 0x07: "data type inconsistent", 0x0A: "object does not exist"}


def refusal(area: str, db: int | None, code: int) -> str:
    """Why the PLC refused an item, in the plant's words."""
    what = _REFUSALS.get(code, f"return code 0x{code:02X}")
    if area == "DB" and code in (0x03, 0x05):
        return (f"the PLC refused it ({what}): past the end of DB{db}, or DB{db} has optimised block access "
                f"(S7-1200/1500), whose variables have no absolute address and are not readable over PUT/GET: "
                f"switch 'Optimized block access' off for DB{db}, or read it over OPC UA")
    if area == "DB" and code == 0x0A:
        return f"the PLC refused it ({what}): DB{db} is not in the PLC"
    return f"the PLC refused it ({what})"


# --- decoding --------------------------------------------------------------------------------------

_STRUCT = {"BYTE": "B", "WORD": "H", "DWORD": "I", "INT": "h", "UINT": "H", "DINT": "i", "UDINT": "I", "REAL": "f",
           "LREAL": "d"}

Decoder = Callable[[bytes], Any]


def decode(tag: S7Tag, raw: bytes, at: int = 0) -> Any:
    """The value of ``tag`` from ``raw``, whose byte ``at`` is the tag's first."""
    kind = tag.type
    if kind == "BOOL":
        assert tag.bit is not None
        return bool((raw[at] >> tag.bit) & 1)
    if kind == "STRING":  # max length, actual length, characters
        assert tag.length is not None
        used = min(raw[at + 1], tag.length)
        return bytes(raw[at + 2:at + 2 + used]).decode("latin-1")
    if kind == "DATE_AND_TIME":
        return get_date_time_object(bytearray(raw[at:at + 8]), 0)
    if kind == "DTL":
        return get_dtl(bytearray(raw[at:at + 12]), 0)
    return struct.unpack_from(">" + _STRUCT[kind], raw, at)[0]


def decoder(tag: S7Tag, at: int) -> Decoder:
    """A function of a block's bytes → ``tag``'s value, ``at`` bytes in; numbers unpack with a compiled struct."""
    if tag.type in _STRUCT:
        unpack_from = struct.Struct(">" + _STRUCT[tag.type]).unpack_from
        return lambda raw: unpack_from(raw, at)[0]
    return lambda raw: decode(tag, raw, at)


def encode(tag: S7Tag, value: Any) -> bytes:
    """The bytes that hold ``value`` for ``tag`` (numbers; a BOOL is written by its byte, see ``write_setpoints``).
    Raises ValueError naming why a value does not fit the tag."""
    kind = tag.type
    if kind not in _STRUCT:
        raise ValueError(f"{tag.address} is a {kind}: not writable as a setpoint")
    number = float(value)
    if kind not in ("REAL", "LREAL"):
        if not number.is_integer():
            raise ValueError(f"{tag.address} holds whole numbers ({kind}): {value} is not one")
        try:
            return struct.pack(">" + _STRUCT[kind], int(number))
        except struct.error:
            raise ValueError(f"{tag.address}: {value} does not fit a {kind}") from None
    return struct.pack(">" + _STRUCT[kind], number)


_SNAP7_AREAS = {"DB": Area.DB, "M": Area.MK, "I": Area.PE, "Q": Area.PA}


# --- planning reads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One item of a request: ``size`` bytes of an area from ``start``, and the tags inside it."""

    area: str
    db: int
    start: int
    size: int
    tags: tuple[S7Tag, ...]

    @property
    def spec(self) -> tuple[int, int, int, int]:
        """(area code, DB number, start, size) as snap7's request encoder takes it."""
        return AREAS[self.area], self.db, self.start, self.size

    @cached_property
    def decoders(self) -> list[tuple[str, Decoder]]:
        """Each tag's name and how to take its value from this block's bytes."""
        return [(t.name, decoder(t, t.offset - self.start)) for t in self.tags]

    @property
    def answer_size(self) -> int:
        """Bytes this item takes in an answer (padded to even)."""
        return ITEM_HEADER + self.size + (self.size & 1)


@dataclass(frozen=True)
class Request:
    """One multi-variable read: its blocks, in the order of the answer's items."""

    blocks: tuple[Block, ...]


def max_block(pdu: int) -> int:
    """The most data bytes one item may carry in an answer of ``pdu`` bytes."""
    return pdu - ANSWER_HEADER - ITEM_HEADER


def plan_blocks(tags: Sequence[S7Tag], pdu: int, max_gap: int, alone: frozenset[str] = frozenset()) -> list[Block]:
    """Merge tags of the same area whose bytes lie ``max_gap`` apart or closer into blocks an answer can carry;
    tags named in ``alone`` get a block of their own."""
    limit = max_block(pdu)
    blocks: list[Block] = []
    keys = sorted({(t.area, t.db or 0) for t in tags})
    for area, db in keys:
        members = sorted((t for t in tags if (t.area, t.db or 0) == (area, db)), key=lambda t: (t.offset, t.size))
        start = end = -1
        group: list[S7Tag] = []
        for t in members:
            t_end = t.offset + t.size
            if t.name in alone:
                blocks.append(Block(area, db, t.offset, t.size, (t,)))
                continue
            if group and t.offset <= end + max_gap and max(end, t_end) - start <= limit:
                end = max(end, t_end)
                group.append(t)
                continue
            if group:
                blocks.append(Block(area, db, start, end - start, tuple(group)))
            start, end, group = t.offset, t_end, [t]
        if group:
            blocks.append(Block(area, db, start, end - start, tuple(group)))
    return blocks


def plan_requests(blocks: Sequence[Block], pdu: int) -> list[Request]:
    """Pack ``blocks`` into as few requests as the PDU size and the item limit allow (in order, first fit)."""
    requests: list[Request] = []
    current: list[Block] = []
    asked = answered = 0
    for b in blocks:
        if current and (len(current) >= MAX_ITEMS or REQUEST_HEADER + asked + ITEM_SPEC > pdu
                        or ANSWER_HEADER + answered + b.answer_size > pdu):
            requests.append(Request(tuple(current)))
            current, asked, answered = [], 0, 0
        current.append(b)
        asked += ITEM_SPEC
        answered += b.answer_size
    if current:
        requests.append(Request(tuple(current)))
    return requests


def parse_items(raw: bytes, count: int) -> list[tuple[int, bytes]]:
    """The (return code, data) of each of ``count`` items in a read answer's data section."""
    items: list[tuple[int, bytes]] = []
    at = 0
    for i in range(count):
        if at + ITEM_HEADER > len(raw):
            raise S7Error(f"the answer ends before item {i + 1} of {count}")
        code, transport, length = raw[at], raw[at + 1], int.from_bytes(raw[at + 2:at + 4], "big")
        at += ITEM_HEADER
        if code != 0xFF:
            items.append((code, b""))
            continue
        size = length // 8 if transport in (0x03, 0x04, 0x05) else length  # bit, byte/word, int: length in bits
        items.append((0xFF, raw[at:at + size]))
        at += size + (size & 1 if i < count - 1 else 0)
    return items


# --- the connector ---------------------------------------------------------------------------------


class S7Connector:
    """Poll the configured variables of one S7 PLC as samples."""

    def __init__(self, config: S7Plc) -> None:
        self.config = config
        self.name = config.name
        self.health = Health(config.name, "s7")
        self.pdu = config.pdu_size  # the negotiated one once connected
        self.alone: set[str] = set()  # tags read as their own item: refused ones (and, for a cycle, a split block's)
        self.plans: list[tuple[S7PollGroup, list[Request]]] = []
        self.requests = 0
        self.failed_requests = 0
        self.cycles = 0
        self.late_cycles = 0
        self._client: AsyncClient | None = None  # the live connection, for setpoint writes
        self._lock = asyncio.Lock()  # one request at a time on the connection: polls and setpoint writes
        self._tags = {t.name: t for g in config.groups for t in g.tags}
        self._replan()

    def _replan(self) -> None:
        alone = frozenset(self.alone)
        too_big = max_block(self.pdu)
        self.plans = []
        for g in self.config.groups:
            fits = []
            for t in g.tags:
                if t.size > too_big:
                    self.health.refused_tags[t.name] = (
                        f"{t.address}: {t.size} bytes do not fit the PLC's PDU of {self.pdu} bytes "
                        f"(at most {too_big} a variable)")
                else:
                    fits.append(t)
            self.plans.append((g, plan_requests(plan_blocks(fits, self.pdu, self.config.max_gap, alone), self.pdu)))

    async def run_once(self, sink: Sink) -> None:
        cfg = self.config
        client = AsyncClient()
        if cfg.remote_tsap is not None and cfg.local_tsap is not None:
            client.local_tsap = cfg.local_tsap
        client.pdu_length = cfg.pdu_size
        try:
            await asyncio.wait_for(self._connect(client), cfg.timeout_s)
        except (TimeoutError, S7Error, OSError) as exc:
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise ConnectionError(f"cannot connect to {cfg.address}: {exc}") from exc
        try:
            if client.connection is not None:
                # No timeout per socket read (asyncio.wait_for makes a task for each, two a request): each
                # request is bounded as a whole in _read instead, at a third of the cost.
                client.connection.timeout = None  # type: ignore[assignment]
            if client.pdu_length != self.pdu:
                self.pdu = client.pdu_length
                self._replan()
            self.health.connected = True
            self.health.connects += 1
            self.health.last_error = None
            self._client = client
            await run_poll_groups([self._poll(client, group, requests, sink) for group, requests in self.plans])
        finally:
            self._client = None
            self.health.connected = False
            with contextlib.suppress(Exception):
                await client.disconnect()

    async def _connect(self, client: AsyncClient) -> None:
        cfg = self.config
        if cfg.remote_tsap is not None:
            # snap7 derives the remote TSAP from rack and slot: connect with the configured one instead.
            client.connection_type = cfg.remote_tsap >> 8
            rack, slot = (cfg.remote_tsap >> 5) & 0x07, cfg.remote_tsap & 0x1F
            await client.connect(cfg.host, rack, slot, cfg.port)
            return
        await client.connect(cfg.host, cfg.rack, cfg.slot, cfg.port)

    async def _poll(self, client: AsyncClient, group: S7PollGroup, requests: list[Request], sink: Sink) -> None:
        loop = asyncio.get_running_loop()
        interval = group.interval_ms / 1000
        next_at = loop.time()
        while True:
            self.cycles += 1
            batch: list[Sample] = []
            split = False
            for request in requests:
                async with self._lock:
                    samples, refused_merged = await self._read(client, request)
                batch.extend(samples)
                split = split or refused_merged
            self.health.saw(batch)
            await sink(batch)
            if split:  # a merged block was refused: its tags are read alone next cycle, to find the culprit
                self._replan()
                requests = next(r for g, r in self.plans if g is group)
            else:
                # This group's tags that were read alone and answered are merged again; the refused stay alone.
                answered = {t.name for t in group.tags if t.name in self.alone
                            and t.name not in self.health.refused_tags}
                if answered:
                    self.alone -= answered
                    self._replan()
                    requests = next(r for g, r in self.plans if g is group)
            next_at += interval
            now = loop.time()
            if now > next_at:
                self.late_cycles += 1
                next_at += interval * ((now - next_at) // interval + 1)
            await asyncio.sleep(next_at - now)

    async def write_setpoints(self, values: Sequence[tuple[str, Any]]) -> list[WrittenValue]:
        """Write each (tag, value) on the live connection (a BOOL by reading its byte and writing it back with the
        bit set or cleared), then read them all back in multi-variable reads. A value that does not fit its tag
        or a write the PLC refuses is that tag's refusal; the others are written on."""
        client = self._client
        if client is None or not self.health.connected:
            raise ConnectionError(f"s7 {self.name} is not connected")
        errors: dict[str, str | None] = {}
        async with self._lock:
            for name, value in values:
                tag = self._tags[name]
                area = _SNAP7_AREAS[tag.area]
                try:
                    async with asyncio.timeout(self.config.timeout_s):
                        if tag.type == "BOOL":
                            assert tag.bit is not None
                            if float(value) not in (0.0, 1.0):
                                raise ValueError(f"{tag.address} is a BOOL: 0 or 1, not {value}")
                            byte = (await client.read_area(area, tag.db or 0, tag.offset, 1))[0]
                            mask = 1 << tag.bit
                            data = bytes([byte | mask if float(value) else byte & ~mask])
                        else:
                            data = encode(tag, value)
                        await client.write_area(area, tag.db or 0, tag.offset, bytearray(data))
                    errors[name] = None
                except ValueError as exc:
                    errors[name] = str(exc)
                except TimeoutError:
                    errors[name] = f"{tag.address}: no answer within {self.config.timeout_s} s"
                except S7Error as exc:
                    if not client.get_connected():
                        raise ConnectionError(f"{self.config.address}: {exc}") from exc
                    errors[name] = f"{tag.address}: the PLC refused the write ({exc})"
            read_back: dict[str, Any] = {}
            tags = [self._tags[name] for name, _ in values]
            for request in plan_requests(plan_blocks(tags, self.pdu, 0, frozenset(t.name for t in tags)), self.pdu):
                samples, _ = await self._read(client, request)
                read_back.update({s.tag: s.value for s in samples if s.quality == "good"})
        return [WrittenValue(name, errors[name] is None, read_back.get(name), errors[name]) for name, _ in values]

    async def _read(self, client: AsyncClient, request: Request) -> tuple[list[Sample], bool]:
        """The samples of ``request``'s tags, and whether a merged block of it was refused (split it)."""
        blocks = request.blocks
        self.requests += 1
        self.health.reads += 1
        try:
            pdu = client.protocol.build_multi_read_request([b.spec for b in blocks])
            # snap7's own send/receive (sequence-checked, one request at a time on the connection).
            async with asyncio.timeout(self.config.timeout_s):
                answer = await client._send_receive(pdu)
            items = parse_items(answer.get("raw_data", b""), len(blocks))
        except TimeoutError as exc:
            if client.connection is not None:
                client.connection.connected = False  # the answer may still come: this connection is done
            self.failed_requests += 1
            self.health.failed_reads += 1
            raise ConnectionError(f"{self.config.address} did not answer within {self.config.timeout_s} s") from exc
        except (S7ConnectionError, S7TimeoutError, OSError) as exc:
            self.failed_requests += 1
            self.health.failed_reads += 1
            raise ConnectionError(f"{self.config.address}: {exc}") from exc
        except S7Error as exc:
            if not client.get_connected():
                self.failed_requests += 1
                self.health.failed_reads += 1
                raise ConnectionError(f"{self.config.address}: {exc}") from exc
            # The PLC answered with an error for the whole request (PUT/GET not permitted, ...): bad, poll on.
            self.failed_requests += 1
            self.health.failed_reads += 1
            when = datetime.now(UTC)
            detail = f"the PLC refused the read: {exc}"
            if "function not allowed" in str(exc).lower() or "not permitted" in str(exc).lower():
                detail += " (S7-1200/1500: switch on 'Permit access with PUT/GET', or read over OPC UA)"
            return [Sample(self.name, t.name, None, "bad", when, detail) for b in blocks for t in b.tags], False
        when = datetime.now(UTC)
        name = self.name
        samples: list[Sample] = []
        split = False
        refused = self.health.refused_tags
        new = tuple.__new__
        for block, (code, data) in zip(blocks, items, strict=True):
            if code != 0xFF or len(data) < block.size:
                self.failed_requests += 1
                self.health.failed_reads += 1
                if len(block.tags) > 1:
                    split = True
                    self.alone.update(t.name for t in block.tags)
                    detail = f"{refusal(block.area, block.db or None, code)}; its tags are read one by one next"
                    samples += [Sample(name, t.name, None, "bad", when, f"{t.address}: {detail}")
                                for t in block.tags]
                    continue
                t = block.tags[0]
                why = (f"{t.address}: {refusal(t.area, t.db, code)}" if code != 0xFF
                       else f"{t.address}: short answer, {len(data)} of {block.size} bytes")
                refused[t.name] = why
                samples.append(Sample(name, t.name, None, "bad", when, why))
                continue
            try:  # the common case: every tag decodes; samples made as plain tuples (many are made)
                samples += [new(Sample, (name, tag_name, decode_tag(data), "good", when, None))
                            for tag_name, decode_tag in block.decoders]
            except (ValueError, struct.error, UnicodeError, IndexError):
                for tag_name, decode_tag in block.decoders:
                    try:
                        samples.append(Sample(name, tag_name, decode_tag(data), "good", when))
                    except (ValueError, struct.error, UnicodeError, IndexError) as exc:
                        samples.append(Sample(name, tag_name, None, "bad", when, f"cannot decode: {exc}"))
            if refused:
                for t in block.tags:
                    refused.pop(t.name, None)
        return samples, split
