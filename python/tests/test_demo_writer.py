"""Live test against the project's demo writer (ouroboros-demo-writer): log records at a high
rate on a small ring, including re-created segments. Checks order, exact gap accounting, that
every entry decodes as a record, and that the last entry written is delivered."""

import json
import os
import subprocess
import time
from typing import List, Tuple

from conftest import find_binary
from ouroboros_reader import Kind, Reader


def run_demo(name: str, *args: str) -> Tuple[subprocess.Popen, Reader]:  # type: ignore[type-arg]
    exe = find_binary("ouroboros-demo-writer")
    proc = subprocess.Popen(
        [str(exe), "-s", name, "--json", "-q", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            reader = Reader.open(name)
            reader.replaced_check_interval = 0.02
            return proc, reader
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.005)


def summary(proc: "subprocess.Popen[str]") -> dict:  # type: ignore[type-arg]
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    return [json.loads(l) for l in out.splitlines() if '"summary"' in l][-1]  # type: ignore[no-any-return]


def test_demo_writer_records_fast() -> None:
    name = f"ouroboros-pydemo-{os.getpid()}"
    proc, reader = run_demo(
        name, "--chunks", "64", "--chunk-size", "16K", "--rate", "100000", "--duration", "1.5"
    )
    try:
        last = None
        delivered = 0
        with reader:
            for e in reader.follow(poll_interval=0.0005, timeout=60):
                assert e.kind is Kind.RECORD, (e.seq, e.kind, e.error)
                assert e.corrupt_before == 0 and not e.restarted
                if last is not None:
                    assert e.seq > last and e.seq - last - 1 == e.lost_before
                assert e.unix_ns is not None and e.level is not None
                last = e.seq
                delivered += 1
        written = summary(proc)["entries"]
    finally:
        proc.kill()
    assert written > 10000 and delivered > 1000
    assert last == written


def test_demo_writer_restarts() -> None:
    name = f"ouroboros-pydemo-r-{os.getpid()}"
    proc, reader = run_demo(
        name, "--chunks", "8", "--chunk-size", "4K", "--rate", "20000", "--duration", "1.6",
        "--restart-every", "0.5",
    )
    runs: List[List[int]] = [[]]
    try:
        with reader:
            for e in reader.follow(poll_interval=0.001, timeout=60):
                if e.restarted:
                    runs.append([])
                assert e.kind is Kind.RECORD and e.corrupt_before == 0
                run = runs[-1]
                if run:
                    assert e.seq > run[-1] and e.seq - run[-1] - 1 == e.lost_before
                run.append(e.seq)
        info = summary(proc)
    finally:
        proc.kill()
        try:
            os.unlink("/dev/shm/" + name)
        except FileNotFoundError:
            pass
    assert info["restarts"] >= 2
    assert len(runs) == info["restarts"] + 1, (len(runs), info)
    assert all(run for run in runs)
    # Sequence numbers restart with each incarnation (the reader re-attaches at the new
    # segment's oldest entry, which a fast writer may already have lapped past 1).
    assert all(new[0] < old[-1] for old, new in zip(runs, runs[1:])), [(r[0], r[-1]) for r in runs]
