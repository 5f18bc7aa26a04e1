"""Hostile bytes: mutated vectors and random buffers never make the reader raise anything but
an AttachError at attach, never hang, and never deliver sequence numbers out of order."""

import random
import struct
from typing import Any, List, Tuple

import pytest

from conftest import VECTORS
from crafted import COMMITTED_ROW, ring_with_entries
from ouroboros_reader import AttachError, Reader, Status, _ring, decode_record
from ouroboros_reader.records import Record

BASES = ["wrapped_plain", "records", "wrapped_many_chunks", "oversize", "no_extension"]


def drain(reader: Reader) -> None:
    last = 0
    for _ in range(2000):
        r = reader.read_next()
        if r.status is Status.NO_DATA:
            return
        if r.status is Status.OK:
            assert r.entry is not None and r.entry.seq > last
            last = r.entry.seq
    # A hostile buffer may keep yielding events, but each call returned: that is the bound.


@pytest.mark.parametrize("base", BASES)
def test_mutated_vectors(base: str) -> None:
    rng = random.Random(base)
    original = (VECTORS / f"{base}.bin").read_bytes()
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 12)):
            kind = rng.random()
            at = rng.randrange(len(data))
            if kind < 0.5:
                data[at] = rng.randrange(256)
            elif kind < 0.8 and at + 4 <= len(data):
                # plausible-looking words: small lengths, committed bits, offsets in range
                word = rng.choice([0, 1, 2, 3, 4, 0x80000001, 0x80000000 | rng.randrange(1 << 12)])
                data[at & ~3 : (at & ~3) + 4] = struct.pack("<I", word)
            elif at + 8 <= len(data):
                value = rng.choice([0, 1 << 63 | rng.randrange(len(data) + 64), (1 << 64) - 1])
                data[at & ~7 : (at & ~7) + 8] = struct.pack("<Q", value)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data) + 1)]
        for mode in ("oldest", "newest", "now"):
            try:
                reader = Reader.from_bytes(bytes(data), mode)
            except AttachError:
                continue
            with reader:
                drain(reader)
                reader.extension()
                reader.liveness()


def test_random_buffers() -> None:
    rng = random.Random(7)
    for _ in range(300):
        size = rng.randrange(0, 600)
        data = bytearray(rng.getrandbits(8) for _ in range(size))
        if size >= 16 and rng.random() < 0.7:
            data[0:16] = struct.pack("<QII", 0x4F55524F424C4F47, 1, rng.choice([1, 2, 3, 30]))
        try:
            reader = Reader.from_bytes(bytes(data))
        except AttachError:
            continue
        with reader:
            drain(reader)


def test_decoder_never_raises() -> None:
    rng = random.Random(11)
    for _ in range(5000):
        size = rng.randrange(0, 80)
        payload = bytes([0x9E, 1]) + bytes(rng.getrandbits(8) for _ in range(size))
        result = decode_record(payload[: rng.randrange(len(payload) + 1)])
        assert isinstance(result, (Record, str))


def ring_events(data: bytes, mode: str, runs: bool) -> List[Tuple[Any, ...]]:
    """The ring reader's results until 'no data' (bounded), one read at a time or in runs."""
    words = _ring.Words(memoryview(bytearray(data)))
    try:
        ring = _ring.RingReader(words, mode)
    except AttachError as e:
        return [("attach", e.status, e.detail)]
    events: List[Tuple[Any, ...]] = []
    while len(events) < 3000:
        if runs:
            status, first, lost, payloads, detail = ring.read_run()
            if status == _ring.OK:
                assert payloads
                events.extend(("ok", first + i, p) for i, p in enumerate(payloads))
                continue
        else:
            status, first, lost, payload, detail = ring.read_next()
            if status == _ring.OK:
                events.append(("ok", first, payload))
                continue
        events.append((status, lost, detail))
        if status == _ring.NO_DATA:
            break
    events.append(("totals", ring.delivered, ring.lost, ring.sequence))
    return events


@pytest.mark.parametrize(
    "base",
    BASES
    + ["records_malformed", "gap_token_jump", "stall_foreign_writer", "forged_token_jump",
       "forged_token_below_sequence", "forged_hidden_row", "forged_row0_moved"],
)
def test_runs_give_exactly_the_outcomes_of_single_reads(base: str) -> None:
    # read_run walks headers, checks the next row once, copies once and re-checks once per run;
    # on any buffer it must deliver what read_next delivers entry by entry (docs/format.md 7.6).
    rng = random.Random("runs-" + base)
    original = (VECTORS / f"{base}.bin").read_bytes()
    for trial in range(120):
        data = bytearray(original)
        if trial:
            for _ in range(rng.randint(1, 8)):
                at = rng.randrange(len(data))
                kind = rng.random()
                if kind < 0.4:
                    data[at] = rng.randrange(256)
                elif kind < 0.8 and at + 4 <= len(data):
                    word = rng.choice([0, 1, 2, 4, 0x80000001, 0x80000000 | rng.randrange(1 << 9)])
                    data[at & ~3 : (at & ~3) + 4] = struct.pack("<I", word)
                elif at + 8 <= len(data):
                    value = rng.choice([1 << 63 | rng.randrange(len(data)) & ~3, rng.randrange(64)])
                    data[at & ~7 : (at & ~7) + 8] = struct.pack("<Q", value)
        for mode in ("oldest", "newest", "now"):
            assert ring_events(bytes(data), mode, True) == ring_events(bytes(data), mode, False), (
                trial,
                mode,
            )


def test_runs_check_one_next_row_per_entry_like_single_reads() -> None:
    # Rows 1 and 2 both start at the third entry with the continuing token; row 3 lies past the
    # data, row 4 starts at the fifth entry with a token from the future. Single reads enter
    # row 1 at the third entry; from then on they compare row 2 (the next row) and row 3 (the
    # far row) with each position, never equal, so all six entries are delivered (as the C++
    # reader does). A run that entered row 2 as well would compare row 4, as its far row, with
    # the fifth entry and resync there.
    payloads = [bytes([65 + i]) * (5 + i) for i in range(6)]
    data = bytearray(ring_with_entries(payloads, chunks=5))
    table_end = 16 + 16 * 5
    starts = [table_end]
    for p in payloads[:-1]:
        starts.append((starts[-1] + 4 + len(p) + 3) & ~3)
    struct.pack_into("<QQ", data, 32, COMMITTED_ROW | starts[2], 2)
    struct.pack_into("<QQ", data, 48, COMMITTED_ROW | starts[2], 2)
    struct.pack_into("<QQ", data, 64, COMMITTED_ROW | (len(data) - 8), 100)
    struct.pack_into("<QQ", data, 80, COMMITTED_ROW | starts[4], 1000)
    single = ring_events(bytes(data), "oldest", False)
    assert [e[2] for e in single if e[0] == "ok"] == payloads
    assert [e[1] for e in single if e[0] == "ok"] == [1, 2, 3, 4, 5, 6]
    assert ring_events(bytes(data), "oldest", True) == single
