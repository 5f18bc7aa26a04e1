"""Entries per second the Python reader sustains on a live segment.

Starts ouroboros-test-writer (unthrottled, so the reader is the bottleneck) on a segment, reads
it flat out with read_next() for the writer's whole run, and prints delivered entries/s, the
writer's rate and how many entries were lapped. Also times a full pass over the stopped segment
(no writer competing for the CPU).

    OUROBOROS_BIN_DIR=build/dev/bin python3 python/benchmarks/live_read.py [--records] [--seconds 3]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from ouroboros_reader import Reader, Status  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--records", action="store_true")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--rate", default="0", help="writer entries/s (0 = unthrottled)")
    args = p.parse_args()
    bin_dir = Path(os.environ.get("OUROBOROS_BIN_DIR", "build/dev/bin"))
    name = f"ouroboros-pybench-{os.getpid()}"
    cmd = [str(bin_dir / "ouroboros-test-writer"), name, "--wait-stdin", "--keep",
           "--chunks", "64", "--chunk-size", "65536", "--seconds", str(args.seconds),
           "--rate", args.rate, "--min-size", "12", "--max-size", "120"]
    if args.records:
        cmd.append("--records")
    writer = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdin is not None
        writer.stdout.readline()
        reader = Reader.open(name)
        writer.stdin.write("go\n")
        writer.stdin.flush()
        delivered = lapped = 0
        payload_bytes = 0
        started = time.perf_counter()
        while writer.poll() is None:
            r = reader.read_next()
            if r.status is Status.OK:
                delivered += 1
                payload_bytes += len(r.entry.payload)  # type: ignore[union-attr]
            elif r.status is Status.LAPPED:
                lapped += r.lost
        elapsed = time.perf_counter() - started
        written = int(writer.communicate()[0].split()[-1])
        reader.close()
        print(f"live: {delivered / elapsed:,.0f} entries/s delivered "
              f"({payload_bytes / elapsed / 1e6:.1f} MB/s payload), writer {written / elapsed:,.0f}/s, "
              f"lost {lapped:,} of {written:,}")
        with Reader.open(name) as full:
            started = time.perf_counter()
            n = sum(1 for _ in full)
            elapsed = time.perf_counter() - started
        print(f"stopped segment, oldest to newest: {n / elapsed:,.0f} entries/s ({n:,} entries)")
    finally:
        if writer.poll() is None:
            writer.kill()
        try:
            os.unlink("/dev/shm/" + name)
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
