"""Issue 10 item 8: forged chunk tables must not make the reader deliver entries again under new
sequence numbers. Rings written by the real writer (ouroboros-test-writer) in 45 shapes, their
chunk tables corrupted at random (bit flips in tokens and offset words, words replaced or nudged,
rows copied over others), read from the oldest and the newest entry. Each payload starts with
the sequence number it was written with, so a genuine payload delivered twice is seen. The bar
is the issue's: at most 0.25 % of the corrupted rings (the C++ forged-table test's bar)."""

import os
import random
import struct
import subprocess
from typing import Dict, List, Tuple

import pytest

from conftest import find_binary
from ouroboros_reader import AttachError, Reader, Status

SHAPES = [
    (chunks, chunk_size, max_size)
    for chunks in (2, 3, 4, 8, 16)
    for chunk_size in (64, 256, 1024)
    for max_size in (40, 200, 900)
]
TRIALS_PER_SHAPE = 40


def written_rings(rng: random.Random) -> List[Tuple[bytes, int, Dict[int, bytes]]]:
    """(ring bytes, chunk count, sequence number -> genuine payload) per shape."""
    exe = find_binary("ouroboros-test-writer")
    name = f"ouroboros-pytest-forged-{os.getpid()}"
    rings = []
    try:
        for chunks, chunk_size, max_size in SHAPES:
            count = rng.choice(
                [chunks * 3, chunks * chunk_size // 20 + 5, chunks * chunk_size // 8 + 50]
            )
            subprocess.run(
                [str(exe), name, "--keep", "--chunks", str(chunks), "--chunk-size",
                 str(chunk_size), "--count", str(count), "--min-size", "12", "--max-size",
                 str(max_size)],
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=30,
            )
            with open("/dev/shm/" + name, "rb") as f:
                data = f.read()
            os.unlink("/dev/shm/" + name)
            genuine: Dict[int, bytes] = {}
            reader = Reader.from_bytes(data)
            for entry in reader:
                genuine[struct.unpack_from("<Q", entry.payload)[0]] = entry.payload
            assert genuine, (chunks, chunk_size, max_size)
            rings.append((data, chunks, genuine))
    finally:
        try:
            os.unlink("/dev/shm/" + name)
        except FileNotFoundError:
            pass
    return rings


def corrupt(data: bytes, chunks: int, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at = 16 + 16 * rng.randrange(chunks)
        kind = rng.random()
        if kind < 0.35:
            out[at + 8 + rng.randrange(8)] ^= 1 << rng.randrange(8)  # a token bit
        elif kind < 0.6:
            out[at + rng.randrange(8)] ^= 1 << rng.randrange(8)  # an offset word bit
        elif kind < 0.8:
            word = at + 8 * rng.randrange(2)
            if rng.random() < 0.5:
                value = rng.getrandbits(64)
            else:
                value = (struct.unpack_from("<Q", out, word)[0] + rng.choice([-2, -1, 1, 2, 7]))
            struct.pack_into("<Q", out, word, value & (2**64 - 1))
        else:
            other = 16 + 16 * rng.randrange(chunks)
            out[at : at + 16] = out[other : other + 16]  # a row copied over another
    return bytes(out)


def redelivers(data: bytes, mode: str, genuine: Dict[int, bytes]) -> bool:
    """Whether reading `data` delivers a genuine payload twice or goes backwards."""
    try:
        reader = Reader.from_bytes(data, mode)
    except AttachError:
        return False
    seen = set()
    last = 0
    for _ in range(5000):
        r = reader.read_next()
        if r.status is Status.NO_DATA:
            break
        if r.status is not Status.OK:
            continue
        entry = r.entry
        assert entry is not None
        if entry.seq <= last:
            return True
        last = entry.seq
        if len(entry.payload) >= 8:
            own = struct.unpack_from("<Q", entry.payload)[0]
            if genuine.get(own) == entry.payload:
                if own in seen:
                    return True
                seen.add(own)
    return False


@pytest.mark.parametrize("mode", ["oldest", "newest"])
def test_forged_tables_rarely_make_the_reader_deliver_entries_twice(mode: str) -> None:
    rng = random.Random(1)
    rings = written_rings(rng)
    bad = trials = 0
    for data, chunks, genuine in rings:
        for _ in range(TRIALS_PER_SHAPE):
            trials += 1
            bad += redelivers(corrupt(data, chunks, rng), mode, genuine)
    # Before the reader rules (docs/format.md 7.7): 318 of 1 800 (17.7 %) from the oldest entry.
    assert bad <= trials * 0.0025, f"{bad} of {trials} corrupted rings re-delivered entries"
