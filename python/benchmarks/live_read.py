"""Entries per second the Python reader sustains on a live segment, and what it loses.

Starts ouroboros-test-writer on a segment (64 chunks x 64 KiB, payloads of 12..120 bytes, or log
records with --records), reads it with the public API for the writer's whole run and then drains
what is left, and prints delivered entries/s, the writer's rate, how many entries were lost
(lapped) and whether delivered + lost == written. With --rate 0 (unthrottled) the writer laps
the reader and the figure is the reader's ceiling; with a paced writer (--rate N) the question
is whether the reader keeps up without loss. Also times a full pass over the stopped segment
(no writer competing for the CPU).

    OUROBOROS_BIN_DIR=build/dev/bin python3 python/benchmarks/live_read.py \
        [--records] [--decode] [--rate N] [--seconds 3] [--api next|batch]

--decode touches every entry's level, time and message (forces the record decode);
--api batch uses Reader.read_batch() (entries in lists) instead of read_next();
--api tail runs `python -m ouroboros_reader --json --exit-on-close` on the segment and counts its
entry lines and gap markers (the tail decodes and formats every entry).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from ouroboros_reader import Reader, Status  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--records", action="store_true")
    p.add_argument("--decode", action="store_true", help="touch level, time and message")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--rate", default="0", help="writer entries/s (0 = unthrottled)")
    p.add_argument("--api", choices=["next", "batch", "tail"], default="next")
    args = p.parse_args()
    bin_dir = Path(os.environ.get("OUROBOROS_BIN_DIR", "build/dev/bin"))
    name = f"ouroboros-pybench-{os.getpid()}"
    cmd = [str(bin_dir / "ouroboros-test-writer"), name, "--wait-stdin", "--keep",
           "--chunks", "64", "--chunk-size", "65536", "--seconds", str(args.seconds),
           "--rate", args.rate, "--min-size", "12", "--max-size", "120"]
    if args.records:
        cmd.append("--records")
    if args.api == "tail":
        return tail_run(cmd, name)
    writer = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    decode = args.decode
    try:
        assert writer.stdout is not None and writer.stdin is not None
        writer.stdout.readline()
        reader = Reader.open(name)
        if args.api == "batch" and not hasattr(reader, "read_batch"):
            print("this reader has no read_batch()", file=sys.stderr)
            return 2
        writer.stdin.write("go\n")
        writer.stdin.flush()
        delivered = lost = 0
        payload_bytes = 0
        touched = 0
        started = time.perf_counter()
        writer_done = None
        while True:
            if args.api == "batch":
                batch = reader.read_batch()  # type: ignore[attr-defined]
                status, entries = batch.status, batch.entries
                lost += batch.lost
                delivered += len(entries)
                for e in entries:
                    payload_bytes += len(e.payload)
                    if decode:
                        touched += e.level is not None and e.unix_ns is not None and len(e.message)
                idle = status is Status.NO_DATA and not entries
            else:
                r = reader.read_next()
                idle = False
                if r.status is Status.OK:
                    delivered += 1
                    e = r.entry
                    payload_bytes += len(e.payload)  # type: ignore[union-attr]
                    if decode:
                        touched += e.level is not None and e.unix_ns is not None and len(e.message)  # type: ignore[union-attr]
                elif r.status is Status.LAPPED:
                    lost += r.lost
                elif r.status is Status.NO_DATA:
                    idle = True
            if writer_done is None:
                if writer.poll() is not None:
                    writer_done = time.perf_counter()
            elif idle:
                break  # the writer has stopped and everything it left was read
        elapsed = time.perf_counter() - started
        writer_seconds = writer_done - started
        written = int(writer.communicate()[0].split()[-1])
        reader.close()
        verdict = "ok" if delivered + lost == written else "MISMATCH"
        print(f"live: {delivered / elapsed:,.0f} entries/s delivered "
              f"({payload_bytes / elapsed / 1e6:.1f} MB/s payload), "
              f"writer {written / writer_seconds:,.0f}/s, "
              f"lost {lost:,} of {written:,} ({100.0 * lost / max(written, 1):.1f} %), "
              f"delivered + lost = written: {verdict}")
        with Reader.open(name) as full:
            started = time.perf_counter()
            n = 0
            for e in full:
                n += 1
                if decode:
                    touched += e.level is not None and e.unix_ns is not None and len(e.message)
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


def tail_run(cmd: List[str], name: str) -> int:
    src = Path(__file__).resolve().parent.parent / "src"
    writer = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tail = None
    try:
        assert writer.stdout is not None and writer.stdin is not None
        writer.stdout.readline()
        tail = subprocess.Popen(
            [sys.executable, "-m", "ouroboros_reader", "--json", "--exit-on-close", name],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(src)},
        )
        assert tail.stdout is not None
        time.sleep(0.5)  # the tail attaches before the writer starts
        writer.stdin.write("go\n")
        writer.stdin.flush()
        started = time.perf_counter()
        delivered = lost = 0
        for line in tail.stdout:
            if line.startswith(b'{"type":"entry"'):
                delivered += 1
            elif line.startswith(b'{"type":"gap"'):
                lost += json.loads(line)["lost"]
        elapsed = time.perf_counter() - started
        tail.wait()
        written = int(writer.communicate()[0].split()[-1])
        verdict = "ok" if delivered + lost == written else "MISMATCH"
        print(f"tail: {delivered / elapsed:,.0f} entries/s delivered, lost {lost:,} of "
              f"{written:,} ({100.0 * lost / max(written, 1):.1f} %), "
              f"delivered + lost = written: {verdict}")
    finally:
        for proc in (writer, tail):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        try:
            os.unlink("/dev/shm/" + name)
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
