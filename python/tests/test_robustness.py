"""Hostile bytes: mutated vectors and random buffers never make the reader raise anything but
an AttachError at attach, never hang, and never deliver sequence numbers out of order."""

import random
import struct

import pytest

from conftest import VECTORS
from ouroboros_reader import AttachError, Reader, Status, decode_record
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
