"""Issue 10: what other processes on the machine can do to a reader (the library; the tail's side
is in test_tail.py). A FIFO, a symlink or a directory under the name (item 4), a segment that
shrinks under a reader (item 1), a writer restarted several times (item 5), a killed but
unreaped writer (item 7). Whatever could hang or kill the reader runs in a subprocess with a
timeout."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from conftest import VECTORS, Writer, segment_name, tail_env
from ouroboros_reader import Liveness, NotARegularFileError, Reader, Status

# -- item 4: only regular files are opened, and opening never blocks --------------------------


def api_open(name: str, timeout: float = 15) -> "subprocess.CompletedProcess[str]":
    """Reader.open(name) in a child: prints the exception class and message, or 'opened'."""
    script = (
        "import sys\n"
        "from ouroboros_reader import Reader\n"
        "try:\n"
        "    Reader.open(sys.argv[1]).close()\n"
        "    print('opened')\n"
        "except Exception as e:\n"
        "    print(type(e).__name__ + ': ' + str(e))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, name],
        capture_output=True,
        text=True,
        env=tail_env(),
        timeout=timeout,
    )


def test_fifo_under_the_name_is_refused_without_hanging(cleanup: List[str]) -> None:
    name = segment_name("fifo")
    cleanup.append(name)
    os.mkfifo("/dev/shm/" + name, 0o666)
    opened = api_open(name)  # a blocking open() would time out
    assert opened.stdout.strip() == (
        f"NotARegularFileError: '/dev/shm/{name}' is not a regular file (it is a FIFO)"
    )


def test_symlink_under_the_name_is_refused(cleanup: List[str]) -> None:
    target = segment_name("symlink-target")
    name = segment_name("symlink")
    cleanup.extend([name, target])
    shutil.copyfile(VECTORS / "fresh_plain.bin", "/dev/shm/" + target)
    os.symlink("/dev/shm/" + target, "/dev/shm/" + name)
    Reader.open(target).close()  # the target itself is fine
    with pytest.raises(NotARegularFileError) as e:
        Reader.open(name)
    assert str(e.value) == f"'/dev/shm/{name}' is not a regular file (it is a symbolic link)"
    assert e.value.status == "not_a_log"


def test_symlink_to_a_fifo_is_refused_without_hanging(cleanup: List[str]) -> None:
    fifo = segment_name("fifo-target")
    name = segment_name("fifo-link")
    cleanup.extend([name, fifo])
    os.mkfifo("/dev/shm/" + fifo, 0o666)
    os.symlink("/dev/shm/" + fifo, "/dev/shm/" + name)
    opened = api_open(name)
    assert opened.stdout.strip().endswith("is not a regular file (it is a symbolic link)")


def test_directory_under_the_name_is_refused(cleanup: List[str]) -> None:
    name = segment_name("dir")
    cleanup.append(name)
    os.mkdir("/dev/shm/" + name)
    with pytest.raises(NotARegularFileError) as e:
        Reader.open(name)
    assert str(e.value) == f"'/dev/shm/{name}' is not a regular file (it is a directory)"


def test_dump_file_that_is_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "dump.bin"
    os.mkfifo(fifo)
    script = (
        "import sys\n"
        "from ouroboros_reader import Reader\n"
        "try:\n"
        "    Reader.from_file(sys.argv[1])\n"
        "except Exception as e:\n"
        "    print(type(e).__name__ + ': ' + str(e))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(fifo)],
        capture_output=True,
        text=True,
        env=tail_env(),
        timeout=15,
    )
    assert result.stdout.strip() == f"NotARegularFileError: '{fifo}' is not a regular file (it is a FIFO)"


# -- item 1: a segment that shrinks under the reader ------------------------------------------


def kept_segment(name: str, count: int = 3000, *args: str) -> int:
    """A closed segment left in /dev/shm by a writer that wrote `count` entries (about 16 KiB,
    so most of it lies beyond the first 4 KiB). Returns its size."""
    writer = Writer(name, "--chunks", "4", "--chunk-size", "4096", "--count", str(count), *args)
    writer.go()
    assert writer.written() == count
    return os.stat("/dev/shm/" + name).st_size


TRUNCATE_SCRIPT = """
import json, os, sys, time
from ouroboros_reader import Reader, Status
name, size = sys.argv[1], int(sys.argv[2])
path = '/dev/shm/' + name
out = {}
with Reader.open(name) as r:
    first = r.read_next()
    out['first'] = first.status.value
    os.truncate(path, 4096)
    statuses = [r.read_next().status.value for _ in range(5000)]
    out['delivered_after'] = statuses.count('ok')
    out['after'] = [s for s in statuses if s != 'ok']
    out['truncated'] = r.truncated
    out['liveness'] = r.liveness().value
    out['extension'] = r.extension() is None
    os.truncate(path, size)
    r.replaced_check_interval = 0.01
    deadline = time.monotonic() + 5
    status = 'no_data'
    while status == 'no_data' and time.monotonic() < deadline:
        status = r.read_next().status.value
        time.sleep(0.002)
    out['restored'] = status
    out['truncated_after_restore'] = r.truncated
print(json.dumps(out))
"""


def test_reader_survives_a_segment_shrinking_under_it(cleanup: List[str]) -> None:
    name = segment_name("shrink")
    cleanup.append(name)
    size = kept_segment(name)
    assert size > 3 * 4096
    result = subprocess.run(
        [sys.executable, "-c", TRUNCATE_SCRIPT, name, str(size)],
        capture_output=True,
        text=True,
        env=tail_env(),
        timeout=30,
    )
    # Before: killed by SIGBUS (returncode -7) on the first read past the new end.
    assert result.returncode == 0, (result.returncode, result.stderr)
    out = json.loads(result.stdout)
    assert out["first"] == "ok"
    # Entries already copied are kept; then the state is reported once, then "no data".
    assert out["after"][0] == "segment_truncated"
    assert set(out["after"][1:]) == {"no_data"}
    assert out["truncated"] is True
    assert out["liveness"] == "unknown" and out["extension"] is True
    # Size restored (same object): the reader resumes on it.
    assert out["restored"] == "attached"
    assert out["truncated_after_restore"] is False


# -- item 5: restart accounting across incarnations -------------------------------------------


def drain_incarnation(reader: Reader, counts: Dict[str, int], want_restart: bool) -> List[int]:
    """Reads until the reader has (re-)attached to the newest incarnation and read it to the end.
    Returns the sequence numbers delivered in it."""
    seqs: List[int] = []
    restarted = not want_restart
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r = reader.read_next()
        if r.status is Status.OK:
            assert r.entry is not None
            seqs.append(r.entry.seq)
            counts["delivered"] += 1
        elif r.status is Status.LAPPED:
            counts["lost"] += r.lost
            counts["gaps"] += 1
        elif r.status is Status.WRITER_RESTARTED:
            assert not restarted, "one restart per incarnation"
            restarted = True
            counts["restarts"] += 1
        elif r.status is Status.NO_DATA:
            if restarted and reader.liveness() is Liveness.CLOSED and seqs:
                return seqs
            time.sleep(0.002)
        else:
            raise AssertionError(r)
    raise AssertionError("the reader did not reach the end of the incarnation")


def test_restart_gap_is_counted_across_incarnations(cleanup: List[str]) -> None:
    name = segment_name("restarts")
    cleanup.append(name)
    counts = {"delivered": 0, "lost": 0, "gaps": 0, "restarts": 0}
    first = Writer(name, "--chunks", "4", "--chunk-size", "4096", "--count", "5000")
    written = 0
    with Reader.open(name) as reader:
        reader.replaced_check_interval = 0.01
        first.go()
        written += first.written()
        drain_incarnation(reader, counts, want_restart=False)
        for run in range(3):
            # Each new incarnation writes far more than its ring holds before the reader
            # notices it: the reader re-attaches at an oldest entry well past 1.
            writer = Writer(name, "--chunks", "4", "--chunk-size", "4096", "--count", "20000")
            writer.go()
            written += writer.written()
            lost_before = counts["lost"]
            seqs = drain_incarnation(reader, counts, want_restart=True)
            assert seqs[-1] == 20000
            assert seqs[0] > 1000, seqs[0]
            # The entries before the new incarnation's oldest one are reported lost (a gap
            # 1..k), so delivered + lost == written holds for this incarnation too.
            assert counts["lost"] - lost_before == seqs[0] - 1 + sum(
                b - a - 1 for a, b in zip(seqs, seqs[1:])
            )
            assert (reader.delivered, reader.lost) == (len(seqs), 20000 - len(seqs))
    assert counts["restarts"] == 3
    assert counts["delivered"] + counts["lost"] == written


def test_follow_folds_the_restart_gap_into_the_first_entry(cleanup: List[str]) -> None:
    name = segment_name("restart-fold")
    cleanup.append(name)
    first = Writer(name, "--count", "10")
    reader = Reader.open(name)
    reader.replaced_check_interval = 0.01
    first.go()
    first.written()
    second = Writer(name, "--chunks", "4", "--chunk-size", "1024", "--count", "3000")
    second.go()
    second.written()
    with reader:
        entries = list(reader.follow(timeout=10))
    assert [e.seq for e in entries[:10]] == list(range(1, 11))
    restart = entries[10]
    assert restart.restarted and restart.seq > 100
    assert restart.lost_before == restart.seq - 1
    assert entries[-1].seq == 3000


# -- item 7: a zombie writer counts as gone -------------------------------------------------


def proc_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read().decode("ascii", "replace")
    return stat[stat.rindex(")") + 2]


def test_zombie_writer_counts_as_gone(cleanup: List[str]) -> None:
    name = segment_name("zombie")
    cleanup.append(name)
    writer = Writer(name, "--count", "10")
    try:
        with Reader.open(name) as reader:
            assert reader.liveness() is Liveness.ALIVE
            os.kill(writer.proc.pid, signal.SIGKILL)  # killed, not reaped: a zombie
            deadline = time.monotonic() + 10
            while proc_state(writer.proc.pid) != "Z":
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert reader.liveness() is Liveness.GONE
            assert proc_state(writer.proc.pid) == "Z"  # still unreaped: the check did that
    finally:
        writer.proc.wait()


TRUNCATE_NOTICED_BY_LIVENESS = """
import json, os, sys
from ouroboros_reader import Reader
name = sys.argv[1]
with Reader.open(name) as r:
    while r.read_next().status.value == 'ok':
        pass
    os.truncate('/dev/shm/' + name, 4096)
    liveness = r.liveness().value  # the size check of this read notices the truncation first
    print(json.dumps([liveness] + [r.read_next().status.value for _ in range(3)]))
"""


def test_truncation_noticed_outside_a_read_is_still_reported(cleanup: List[str]) -> None:
    # Before: liveness() noticed the shrink and marked the reader truncated, and read_next never
    # said so (the tail waited in silence).
    name = segment_name("shrink-liveness")
    cleanup.append(name)
    kept_segment(name)
    result = subprocess.run(
        [sys.executable, "-c", TRUNCATE_NOTICED_BY_LIVENESS, name],
        capture_output=True,
        text=True,
        env=tail_env(),
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["unknown", "segment_truncated", "no_data", "no_data"]
