"""A reader waiting on an idle segment polls it through the descriptor, not the mapping, so a
segment truncated while the reader waits never kills it (Python cannot catch SIGBUS)."""

import os
import queue
import subprocess
import sys
import threading
import time

from conftest import SRC, segment_name
from crafted import segment

# Polls as fast as it can, so that before the idle probe almost every truncation landed between
# the size check and the reads of the mapping.
CHILD = r"""
import sys
sys.path.insert(0, sys.argv[2])
from ouroboros_reader import Reader, Status
reader = Reader.open(sys.argv[1])
print("open", flush=True)
while True:
    status = reader.read_batch().status
    if status is Status.SEGMENT_TRUNCATED:
        print("truncated", flush=True)
    elif status is Status.ATTACHED:
        print("attached", flush=True)
    elif status is not Status.NO_DATA and status is not Status.OK:
        print(status.value, flush=True)
"""


def test_an_idle_reader_survives_its_segment_shrinking_while_it_polls() -> None:
    name = segment_name("idle-shrink")
    path = "/dev/shm/" + name
    data = segment([[b"entry %d" % i for i in range(5)]])
    with open(path, "wb") as f:
        f.write(data)
    child = subprocess.Popen([sys.executable, "-c", CHILD, name, str(SRC)],
                             stdout=subprocess.PIPE, text=True)
    lines: "queue.Queue[str]" = queue.Queue()

    def pump() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.put(line.strip())
        lines.put("<exit>")

    threading.Thread(target=pump, daemon=True).start()

    def said() -> str:
        try:
            return lines.get(timeout=10)
        except queue.Empty:
            return "<silent>"

    try:
        assert said() == "open"
        for cycle in range(25):
            time.sleep(0.02)  # the reader has read everything and polls
            os.truncate(path, 0)
            event = said()
            assert event == "truncated", f"cycle {cycle}: {event}, exit code {child.poll()}"
            with open(path, "r+b") as f:  # the same segment back at its size
                f.write(data)
            event = said()
            assert event == "attached", f"cycle {cycle}: {event}, exit code {child.poll()}"
    finally:
        child.kill()
        child.wait()
        os.unlink(path)
