"""Modbus register decoding (types, byte and word order, scale and offset) and read planning."""
from __future__ import annotations

import struct

import pytest
from pydantic import ValidationError

from connectors.config import ModbusTag
from connectors.modbus import MAX_REGISTERS, decode, plan_reads, register_bytes


def words(fmt: str, value: object, byte_order: str = "big", word_order: str = "big") -> list[int]:
    """Registers as a device with the given byte and word order would hold ``value``."""
    raw = struct.pack(">" + fmt, value)
    regs = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    if byte_order == "little":
        regs = [((r & 0xFF) << 8) | (r >> 8) for r in regs]
    if word_order == "little":
        regs.reverse()
    return regs


CASES = [
    ("int16", "h", -1234), ("uint16", "H", 54321), ("int32", "i", -123456789), ("uint32", "I", 4_000_000_000),
    ("int64", "q", -9_000_000_000_000), ("uint64", "Q", 18_000_000_000_000_000_000), ("float32", "f", 21.5),
    ("float64", "d", -1234.5678),
]


@pytest.mark.parametrize("byte_order", ["big", "little"])
@pytest.mark.parametrize("word_order", ["big", "little"])
@pytest.mark.parametrize(("kind", "fmt", "value"), CASES)
def test_numbers_in_every_byte_and_word_order(kind: str, fmt: str, value: float, byte_order: str,
                                             word_order: str) -> None:
    tag = ModbusTag(name="t", address=0, type=kind, byte_order=byte_order, word_order=word_order)  # type: ignore[arg-type]
    assert decode(tag, words(fmt, value, byte_order, word_order)) == value


def test_scale_offset_bits_bools_and_strings() -> None:
    assert decode(ModbusTag(name="t", address=0, type="int16", scale=0.1, offset=-40), [650]) == pytest.approx(25.0)
    assert decode(ModbusTag(name="t", address=0, type="bit", bit=3), [0b1000]) is True
    assert decode(ModbusTag(name="t", address=0, type="bit", bit=2), [0b1000]) is False
    assert decode(ModbusTag(name="t", address=0, type="bool"), [7]) is True
    assert decode(ModbusTag(name="t", table="coil", address=0, type="bool"), [False]) is False
    regs = [int.from_bytes(b"WO", "big"), int.from_bytes(b"-1", "big"), int.from_bytes(b"2\x00", "big"), 0]
    assert decode(ModbusTag(name="t", address=0, type="string", length=4), regs) == "WO-12"
    swapped = [int.from_bytes(b"OW", "big"), int.from_bytes(b"1-", "big")]
    assert decode(ModbusTag(name="t", address=0, type="string", length=2, byte_order="little"), swapped) == "WO-1"
    assert register_bytes([0x0102, 0x0304], "little", "little") == b"\x04\x03\x02\x01"


def test_contiguous_tags_are_merged_up_to_the_protocol_limit() -> None:
    tags = [ModbusTag(name=f"r{i}", address=i * 2, type="uint32") for i in range(100)]  # 200 registers
    tags.append(ModbusTag(name="far", address=1000, type="uint16"))
    tags.append(ModbusTag(name="in", table="input", address=0, type="uint16"))
    tags.append(ModbusTag(name="c", table="coil", address=5, type="bool"))
    reads = plan_reads(tags)
    holding = [r for r in reads if r.table == "holding"]
    assert [(r.address, r.count) for r in holding] == [(0, 124), (124, 76), (1000, 1)]
    assert all(r.count <= MAX_REGISTERS for r in reads)
    assert sum(len(r.tags) for r in reads) == len(tags)
    assert {r.table for r in reads} == {"holding", "input", "coil"}


def test_gaps_are_spanned_only_when_allowed() -> None:
    tags = [ModbusTag(name="a", address=0), ModbusTag(name="b", address=5)]
    assert len(plan_reads(tags)) == 2
    assert [(r.address, r.count) for r in plan_reads(tags, max_gap=4)] == [(0, 6)]


def test_tag_shapes_are_checked() -> None:
    with pytest.raises(ValidationError, match="bit: 0..15"):
        ModbusTag(name="t", address=0, type="bit")
    with pytest.raises(ValidationError, match="coil tags are bool"):
        ModbusTag(name="t", table="coil", address=0, type="uint16")


def test_one_unpack_per_read_decodes_as_tag_by_tag_does() -> None:
    import random

    rng = random.Random(7)
    kinds = ["uint16", "int16", "uint32", "int32", "int64", "uint64", "float32", "float64"]
    tags, address = [], 3
    for i in range(30):
        tag = ModbusTag(name=f"t{i}", address=address, type=rng.choice(kinds))  # type: ignore[arg-type]
        tags.append(tag)
        address += tag.count + rng.choice([0, 0, 1, 2])  # some gaps, spanned by the read
    (read,) = plan_reads(tags, max_gap=2)
    fast = read.unpacker()
    assert fast is not None
    for _ in range(50):
        words = [rng.randrange(65536) for _ in range(read.count)]
        raw = struct.pack(f">{len(words)}H", *words)
        one_unpack = dict(zip(fast[1], fast[0].unpack_from(raw), strict=True))
        tag_by_tag = {t.name: decode(t, words[t.address - read.address:t.address - read.address + t.count])
                      for t in tags}
        assert one_unpack.keys() == tag_by_tag.keys()
        for name, value in tag_by_tag.items():
            assert one_unpack[name] == value or (value != value and one_unpack[name] != one_unpack[name])  # NaN
    # Scaled, little-endian, bit or overlapping tags keep the tag-by-tag path.
    assert plan_reads([ModbusTag(name="a", address=0, type="uint16", scale=0.1)])[0].unpacker() is None
    assert plan_reads([ModbusTag(name="a", address=0, type="int32", word_order="little")])[0].unpacker() is None
    assert plan_reads([ModbusTag(name="a", address=0, type="uint32"),
                       ModbusTag(name="b", address=1, type="uint16")])[0].unpacker() is None
