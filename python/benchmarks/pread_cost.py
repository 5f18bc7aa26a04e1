"""What reading a segment with os.pread instead of the mapping would cost (issue 10 item 1).

pread() cannot raise SIGBUS: a read past the end of a shrunk file just returns fewer bytes. The
reader maps the segment instead and checks the file size (os.fstat) before every batch. This
compares, over a stopped segment written by ouroboros-test-writer (64 chunks x 64 KiB):

* mmap:           Reader.read_batch() over the whole segment (one fstat per batch included,
                  Entry objects built);
* mmap ring:      the ring layer alone (RingReader.read_run: payload bytes, no Entry, no
                  fstat), the same work as the pread variants below;
* fstat:          the size check alone;
* pread/entry:    the per-entry protocol with a syscall per shared load: header, payload, row
                  (offset, token, offset) after the copy; what a pread reader needs at least when
                  each shared word must be read on its own;
* pread/run:      one pread per row snapshot and one per chunk (the header walk then parses the
                  copy, which a kernel copy does not make word-atomic: a cost bound only).

    OUROBOROS_BIN_DIR=build/dev/bin python3 python/benchmarks/pread_cost.py [--records]
"""

import argparse
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from ouroboros_reader import Reader, Status, _ring  # noqa: E402

ROW = struct.Struct("<QQ")
U32 = struct.Struct("<I")
COMMITTED_ROW = 1 << 63
MASK = COMMITTED_ROW - 1


def best_per_entry(run: Callable[[], int], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        n = run()
        best = min(best, (time.process_time() - started) / n)
    return best


def chunks(fd: int) -> List[List[int]]:
    """The segment's chunks in token order: [row index, offset, token]."""
    count = U32.unpack(os.pread(fd, 4, 12))[0]
    rows = []
    for i in range(count):
        word, token = ROW.unpack(os.pread(fd, 16, 16 + 16 * i))
        if word & COMMITTED_ROW:
            rows.append([i, word & MASK, token])
    rows.sort(key=lambda r: r[2])
    return rows


def pread_per_entry(fd: int, size: int) -> int:
    n = 0
    rows = chunks(fd)
    for k, (index, offset, token) in enumerate(rows):
        end = rows[k + 1][1] if k + 1 < len(rows) and rows[k + 1][1] > offset else size
        at = offset
        while at + 4 <= end:
            header = U32.unpack(os.pread(fd, 4, at))[0]
            length = header & 0x7FFFFFFF
            if not header & 0x80000000 or length < 4 or length > size - at:
                break
            os.pread(fd, length - 4, at + 4)
            row = 16 + 16 * index
            os.pread(fd, 8, row)
            os.pread(fd, 8, row + 8)
            os.pread(fd, 8, row)
            n += 1
            at = (at + length + 3) & ~3
    return n


def pread_per_run(fd: int, size: int) -> int:
    n = 0
    rows = chunks(fd)
    for k, (index, offset, token) in enumerate(rows):
        end = rows[k + 1][1] if k + 1 < len(rows) and rows[k + 1][1] > offset else size
        row = 16 + 16 * index
        os.pread(fd, 16, row)
        data = os.pread(fd, end - offset, offset)
        at = 0
        payloads = []
        while at + 4 <= len(data):
            header = U32.unpack_from(data, at)[0]
            length = header & 0x7FFFFFFF
            if not header & 0x80000000 or length < 4 or length > len(data) - at:
                break
            payloads.append(data[at + 4 : at + length])
            at = (at + length + 3) & ~3
        os.pread(fd, 16, row)
        n += len(payloads)
    return n


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--records", action="store_true")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    bin_dir = Path(os.environ.get("OUROBOROS_BIN_DIR", "build/dev/bin"))
    name = f"ouroboros-pybench-pread-{os.getpid()}"
    cmd = [str(bin_dir / "ouroboros-test-writer"), name, "--keep", "--chunks", "64",
           "--chunk-size", "65536", "--count", "200000", "--min-size", "12", "--max-size", "120"]
    if args.records:
        cmd.append("--records")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    path = "/dev/shm/" + name
    try:
        def mmap_pass() -> int:
            n = 0
            with Reader.open(name) as reader:
                while True:
                    batch = reader.read_batch()
                    if batch.status is not Status.OK:
                        return n
                    n += len(batch.entries)

        def ring_pass() -> int:
            n = 0
            with Reader.open(name) as reader:
                ring = _ring.RingReader(reader._map.words)  # type: ignore[union-attr]
                while True:
                    status, _, _, payloads, _ = ring.read_run()
                    if status != _ring.OK:
                        return n
                    n += len(payloads)  # type: ignore[arg-type]

        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size

        def fstats() -> int:
            for _ in range(100000):
                os.fstat(fd)
            return 100000

        results = [
            ("mmap (read_batch)", best_per_entry(mmap_pass, args.repeat)),
            ("mmap ring (read_run)", best_per_entry(ring_pass, args.repeat)),
            ("fstat alone, per call", best_per_entry(fstats, args.repeat)),
            ("pread per entry", best_per_entry(lambda: pread_per_entry(fd, size), args.repeat)),
            ("pread per run", best_per_entry(lambda: pread_per_run(fd, size), args.repeat)),
        ]
        os.close(fd)
        for label, seconds in results:
            unit = "call " if label.startswith("fstat") else "entry"
            print(f"{label:24} {seconds * 1e9:8.0f} ns per {unit} ({1 / seconds:12,.0f} /s)")
    finally:
        os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
