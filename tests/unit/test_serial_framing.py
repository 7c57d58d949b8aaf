"""Serial framing: suffixes and prefix, split writes reassembled, AIM identifiers and GS kept, garbage dropped."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanners.serial_reader import SUFFIXES, DoubleReadFilter, Dropped, Framer

LABEL = "]C10109501101530003\x1d10LOT-1"


@pytest.mark.parametrize("suffix", list(SUFFIXES))
def test_each_suffix_frames_a_label_and_keeps_identifier_and_gs(suffix: str) -> None:
    framer = Framer(SUFFIXES[suffix])
    assert framer.feed(LABEL.encode() + SUFFIXES[suffix]) == [LABEL]


def test_prefix_is_required_and_stripped() -> None:
    framer = Framer(b"\r", prefix=b"\x02")
    assert framer.feed(b"\x02ABC\r") == ["ABC"]
    (dropped,) = framer.feed(b"ABC\r")
    assert isinstance(dropped, Dropped) and "missing prefix" in dropped.reason


def test_crlf_from_a_scanner_on_a_cr_port_still_frames() -> None:
    framer = Framer(b"\r")
    assert framer.feed(b"A\r\nB\r\n") == ["A", "B"]


def test_garbage_and_overlong_lines_are_dropped_with_a_reason() -> None:
    framer = Framer(b"\r", max_length=10)
    out = framer.feed(b"\x00\x07junk\r" + b"\xff\xfe\r" + b"X" * 25)
    out += framer.feed(b"Y" * 30 + b"\rOK\r")
    reasons = [f.reason for f in out if isinstance(f, Dropped)]
    assert "control character 0x00 at 0" in reasons[0]
    assert "not UTF-8" in reasons[1]
    assert "overlong" in reasons[2]
    assert out[-1] == "OK"


def test_double_reads_within_the_window_are_one_scan() -> None:
    now = [0.0]
    doubles = DoubleReadFilter(0.5, clock=lambda: now[0])
    assert doubles.first_read("A")
    now[0] = 0.3
    assert not doubles.first_read("A")
    now[0] = 1.0
    assert doubles.first_read("A")
    assert doubles.first_read("B")


labels = st.lists(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\x1d"), min_size=1,
                          max_size=40), min_size=1, max_size=8)


@settings(max_examples=200, deadline=200)
@given(labels, st.data())
def test_any_split_of_the_stream_gives_the_same_labels(texts: list[str], data: st.DataObject) -> None:
    stream = b"".join(t.encode() + b"\r" for t in texts)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=10)))
    framer = Framer(b"\r")
    out: list[str | Dropped] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += framer.feed(stream[start:end])
    assert out == texts


@settings(max_examples=300, deadline=200)
@given(st.lists(st.binary(max_size=300), max_size=10), st.sampled_from(list(SUFFIXES.values())))
def test_fuzz_random_bytes_never_crash_and_frames_are_clean(chunks: list[bytes], suffix: bytes) -> None:
    framer = Framer(suffix, max_length=64)
    for chunk in chunks:
        for frame in framer.feed(chunk):
            if isinstance(frame, Dropped):
                assert frame.reason
            else:
                assert frame and len(frame.encode()) <= 64 and suffix.decode() not in frame
                assert all(ord(ch) >= 0x20 or ch in "\x1d\x1e\x04" for ch in frame)
