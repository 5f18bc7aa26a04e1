"""Live tests: a C++ writer (ouroboros-test-writer) writes fast into a small ring while the
Python reader reads. Payloads carry their own sequence number and an FNV-1a checksum, so a torn
or misnumbered entry cannot go unnoticed; gap accounting must be exact."""

import os
import signal
import struct
import subprocess
import time
from pathlib import Path
from typing import List, Tuple

import pytest

from conftest import Writer, segment_name
from ouroboros_reader import Liveness, Reader, SegmentNotFoundError, Start, Status


def fnv1a(data: bytes, h: int = 2166136261) -> int:
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def check_payload(seq: int, payload: bytes) -> None:
    assert len(payload) >= 12, f"entry {seq}: {len(payload)} bytes"
    own_seq, checksum = struct.unpack_from("<QI", payload)
    assert own_seq == seq, f"entry delivered as {seq} carries {own_seq}"
    assert fnv1a(payload[12:], fnv1a(payload[:8])) == checksum, f"entry {seq}: bad checksum"
    size = len(payload)
    # filler byte i is (seq + i) & 0xFF: spot-check the tail too
    assert payload[size - 1] == (seq + size - 1) & 0xFF or size == 12


@pytest.mark.parametrize("rate", ["0", "40000"])
def test_live_order_gaps_and_integrity(rate: str, cleanup: List[str]) -> None:
    name = segment_name("live" + rate)
    cleanup.append(name)
    # A paced writer gets a ring that holds ~20 ms of entries; the unthrottled one laps a tiny one.
    chunks = "8" if rate == "0" else "64"
    writer = Writer(name, "--chunks", chunks, "--chunk-size", "2048", "--seconds", "1.5",
                    "--rate", rate, "--min-size", "12", "--max-size", "300")
    try:
        reader = Reader.open(name, Start.OLDEST)
        writer.go()
        last = 0
        lost = 0
        delivered = 0
        # Payloads are checked after the run: the pure-Python checksum costs more per entry
        # than reading it, and the test is about the reader keeping up.
        received: List[Tuple[int, bytes]] = []
        with reader:
            for entry in reader.follow(poll_interval=0.0005, timeout=30):
                assert entry.seq > last
                assert entry.seq - last - 1 == entry.lost_before, "gap not reported exactly"
                assert entry.corrupt_before == 0
                assert not entry.restarted
                received.append((entry.seq, entry.payload))
                lost += entry.lost_before
                delivered += 1
                last = entry.seq
            assert reader.liveness() is Liveness.CLOSED
            assert (reader.delivered, reader.lost) == (delivered, lost)
        total = writer.written()
    finally:
        writer.kill()
    for seq, payload in received:
        check_payload(seq, payload)
    assert total > 1000
    assert last == total, "the newest entry must be delivered once the writer stopped"
    assert delivered + lost == total
    assert delivered > 100
    if rate != "0":
        assert delivered > total // 4, "a paced writer should mostly be kept up with"


def test_live_records(cleanup: List[str]) -> None:
    name = segment_name("rec")
    cleanup.append(name)
    writer = Writer(name, "--records", "--chunks", "4", "--chunk-size", "4096", "--count", "20000")
    try:
        with Reader.open(name) as reader:
            writer.go()
            n = 0
            for entry in reader.follow(poll_interval=0.0005, timeout=30):
                assert entry.record is not None, entry
                assert entry.message == f"entry {entry.seq}"
                assert entry.fields == [("seq", str(entry.seq))]
                assert int(entry.level) == entry.seq % 6
                assert entry.unix_ns is not None and abs(entry.unix_ns - time.time_ns()) < 60e9
                n += 1
            assert n > 0
        assert writer.written() == 20000
    finally:
        writer.kill()


def test_start_modes_and_liveness(cleanup: List[str]) -> None:
    name = segment_name("modes")
    cleanup.append(name)
    writer = Writer(name, "--chunks", "4", "--chunk-size", "512", "--count", "5000")
    with Reader.open(name) as early:
        assert early.liveness() is Liveness.ALIVE
        writer.go()
        total = writer.written()
        assert early.liveness() is Liveness.CLOSED
    with Reader.open(name, Start.NOW) as now:
        assert list(now) == []
        assert now.read_next().status is Status.NO_DATA
    with Reader.open(name, Start.NEWEST) as newest:
        seqs = [e.seq for e in newest]
    with Reader.open(name, Start.OLDEST) as oldest:
        all_seqs = [e.seq for e in oldest]
    assert seqs[-1] == all_seqs[-1] == total
    assert len(seqs) < len(all_seqs)
    assert all_seqs == list(range(all_seqs[0], total + 1))


def test_writer_gone_after_kill(cleanup: List[str]) -> None:
    name = segment_name("gone")
    cleanup.append(name)
    writer = Writer(name, "--count", "10")
    with Reader.open(name) as reader:
        assert reader.liveness() is Liveness.ALIVE
        writer.proc.send_signal(signal.SIGKILL)
        writer.proc.wait()
        assert reader.liveness() is Liveness.GONE
        assert list(reader.follow(timeout=5)) == []  # stops: writer gone, nothing to read


def test_segment_recreated_is_reattached(cleanup: List[str]) -> None:
    name = segment_name("again")
    cleanup.append(name)
    first = Writer(name, "--count", "300")
    reader = Reader.open(name)
    reader.replaced_check_interval = 0.01
    first.go()
    assert first.written() == 300
    with reader:
        seqs = [e.seq for e in reader]
        assert seqs[-1] == 300
        second = Writer(name, "--count", "40")  # replaces the closed segment
        second.go()
        assert second.written() == 40
        deadline = time.monotonic() + 10
        status = Status.NO_DATA
        while status is not Status.WRITER_RESTARTED and time.monotonic() < deadline:
            status = reader.read_next().status
            time.sleep(0.005)
        assert status is Status.WRITER_RESTARTED
        after = list(reader)
        assert [e.seq for e in after] == list(range(1, 41))
        check_payload(after[0].seq, after[0].payload)


def test_follow_reports_restart_on_entry(cleanup: List[str]) -> None:
    name = segment_name("follow")
    cleanup.append(name)
    first = Writer(name, "--count", "10")
    reader = Reader.open(name)
    reader.replaced_check_interval = 0.01
    first.go()
    first.written()
    second = Writer(name, "--count", "5")
    second.go()
    second.written()
    with reader:
        entries = list(reader.follow(timeout=10))
    assert [e.seq for e in entries] == list(range(1, 11)) + list(range(1, 6))
    assert entries[10].restarted and not any(e.restarted for e in entries[:10])


def test_missing_then_cli_follow(cleanup: List[str]) -> None:
    name = segment_name("cli")
    cleanup.append(name)
    with pytest.raises(SegmentNotFoundError):
        Reader.open(name)
    writer = Writer(name, "--records", "--count", "50")
    src = Path(__file__).resolve().parent.parent / "src"
    cli = subprocess.Popen(
        [os.environ.get("PYTHON", "python3"), "-m", "ouroboros_reader", "--json",
         "--exit-on-close", name],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    try:
        time.sleep(0.5)  # the CLI attaches before the writer starts
        writer.go()
        assert writer.written() == 50
        out, _ = cli.communicate(timeout=30)  # --exit-on-close: exits once the writer closed
    finally:
        cli.kill()
        writer.kill()
    import json

    lines = [json.loads(l) for l in out.splitlines()]
    assert lines[-1]["type"] == "event" and lines[-1]["event"] == "writer_closed"
    lines = [l for l in lines if l["type"] == "entry"]
    assert [l["seq"] for l in lines] == list(range(1, 51))
    assert lines[0]["message"] == "entry 1" and lines[0]["fields"] == {"seq": "1"}
