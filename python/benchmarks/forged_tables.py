"""Time of one full pass (attach at the oldest entry, read to "no data") over forged chunk tables
(issue 10 item 3): N rows that each lead to a dead end. A reader that scans the whole table per
dead end needs O(N^2) row loads; the Python reader keeps a sorted snapshot of the rows.

    python3 python/benchmarks/forged_tables.py [--rows 4096 16384 65536] [--timeout 60]

Each pass runs in a child process so a slow (quadratic) reader can be cut off at --timeout.
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = """
import sys, time
sys.path.insert(0, {src!r})
sys.path.insert(0, {tests!r})
import crafted
from ouroboros_reader import Reader, Status
kind, rows = sys.argv[1], int(sys.argv[2])
data = {{
    "corrupt": lambda: crafted.rows_at_slots(rows, 0x80000002),
    "empty": lambda: crafted.rows_at_slots(rows, 0),
    "pairs": lambda: crafted.rows_in_equal_token_pairs(rows),
    "loops": lambda: crafted.plausible_rows_in_loops(rows // 3),
    "one_then_corrupt": lambda: crafted.rows_with_one_entry_then_corrupt(rows),
}}[kind]()
started = time.perf_counter()
reader = Reader.from_bytes(data)
reads = 0
while reader.read_next().status is not Status.NO_DATA:
    reads += 1
print(f"{{time.perf_counter() - started:.3f}} {{len(data)}} {{reads}}")
"""

KINDS = {
    "corrupt": "every row at a corrupt entry",
    "empty": "every row at an empty slot (rule 5)",
    "pairs": "rows in equal-token pairs (implausible)",
    "loops": "plausible rows, a loop within a read per 3",
    "one_then_corrupt": "one entry, then a corrupt one, per row",
}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, nargs="+", default=[4096, 16384, 65536])
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--src", default=str(HERE.parent / "src"), help="the package to time")
    args = p.parse_args()
    code = CHILD.format(src=args.src, tests=str(HERE.parent / "tests"))
    for kind, label in KINDS.items():
        for rows in args.rows:
            try:
                out = subprocess.run(
                    [sys.executable, "-c", code, kind, str(rows)],
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                    check=True,
                ).stdout.split()
                result = f"{float(out[0]) * 1000:10.1f} ms  ({int(out[1]):,} bytes, {int(out[2]):,} reads)"
            except subprocess.TimeoutExpired:
                result = f"  > {args.timeout:.0f} s (cut off)"
            print(f"{label:45} N = {rows:7}: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
